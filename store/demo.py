"""Realistic demo data: accounts, contacts and activities for trying the CRM and for benchmarks.

`generate(size, seed)` returns whole stored records ({table: {id: record}}), the same ones for the
same seed and `now`; `fill(crm, size, seed)` writes them with `crm.replace_all`. Sizes
(accounts / contacts / activities): S 100 / 500 / 2,500, M 10,000 / 50,000 / 250,000,
L 100,000 / 500,000 / 2,000,000.

The data is clean (every record passes `CRM.check()`) but lived-in: names in many scripts with their
accents, addresses whose cities, postal codes and phone numbers belong to the same country, account
hierarchies, people with and without a company, two years of calls, emails, notes, meetings and
tasks (some overdue, some canceled, a few weeks of plans ahead) and a handful of key accounts with
about a thousand activities each at M and L.

Standard library and python-ulid only. Speed matters more than elegance here: pools are built once,
times are integers turned into text through lookup tables, and the random source is one
`random.Random(seed)`.
"""

from __future__ import annotations

import gc
import random
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from ulid import base32

from store.model import (
    ACCOUNTS,
    ACTIVITIES,
    CONTACTS,
    ActivityType,
    Direction,
    Priority,
    Relationship,
)
from store.text import fold

if TYPE_CHECKING:
    from store.service import CRM

Record = dict[str, Any]
Tables = dict[str, dict[str, Record]]

SIZES: dict[str, tuple[int, int, int]] = {
    "S": (100, 500, 2_500),
    "M": (10_000, 50_000, 250_000),
    "L": (100_000, 500_000, 2_000_000),
}
# How many key accounts carry how many activities of their own (the "busy record" of a size).
_KEY_ACCOUNTS = {"S": (2, 120), "M": (5, 1_000), "L": (8, 1_000)}
COLLEAGUES = ("ana", "bjorn", "chloe", "kenji", "omar")
COMPANY_DOMAIN = "example.com"  # our own (the CRM user's) company

_DAY = 86_400
_YEAR = 365 * _DAY
_HISTORY = 730 * _DAY  # activities reach back two years...
_AHEAD = 28 * _DAY  # ...and plans a few weeks ahead
_B2C_SHARE = 0.2

_INDUSTRIES = ("Construction", "Logistics", "Food & Beverage", "Retail", "Manufacturing",
               "Software", "Healthcare", "Hospitality", "Real Estate", "Textiles", "Consulting",
               "Energy", "Automotive", "Financial Services", "Education", "Media",
               "Telecommunications", "Agriculture", "Pharmaceuticals", "Electronics", "Wholesale")

_RELATIONSHIP_WEIGHTS = {
    Relationship.CUSTOMER: 34, Relationship.PROSPECT: 24, Relationship.PARTNER: 8,
    Relationship.RESELLER: 6, Relationship.VENDOR: 5, Relationship.SUPPLIER: 6,
    Relationship.COMPETITOR: 3, Relationship.INVESTOR: 2, Relationship.CONSULTANT: 4,
    Relationship.INFLUENCER: 2, Relationship.PRESS: 2, Relationship.OTHER: 4,
}

# --------------------------------------------------------------------------- countries
# Pools are compact strings: entries split by "|"; "native/roman" gives the romanisation used for
# email addresses and web domains (Latin-script entries are folded automatically); "male~female"
# gives gendered surnames; words are "word=Industry"; cities are "city;state;postal;area code"
# where "#" is a random digit and "@" a random letter.

_COUNTRIES: dict[str, dict[str, Any]] = {
    "US": dict(
        name="United States", weight=12, tz=-5, tld="com",
        personal="gmail.com|yahoo.com|outlook.com|icloud.com|aol.com",
        phone="+1 ({a}) 555-01##", mobile="+1 ({a}) 555-01##",
        cities="New York;NY;100##;212|San Francisco;CA;941##;415|Chicago;IL;606##;312"
               "|Austin;TX;787##;512|Seattle;WA;981##;206|Boston;MA;021##;617|Miami;FL;331##;305"
               "|Denver;CO;802##;303|Atlanta;GA;303##;404",
        streets="Main Street|Market Street|Broadway|Michigan Avenue|Congress Avenue|Pine Street"
                "|Peachtree Street|Larimer Street|Boylston Street",
        street="{n} {st}",
        first_m="James|Michael|David|Christopher|Daniel|Matthew|Andrew|José|Kevin|Brian",
        first_f="Mary|Jennifer|Emily|Jessica|Sarah|Ashley|Zoë|Renée|Megan|Lauren",
        last="Smith|Johnson|Williams|Brown|Jones|Miller|Davis|O'Brien|García|Nguyen|Kim|Patel"
             "|Anderson|Thompson|Rodríguez|Sullivan",
        words="Logistics=Logistics|Construction=Construction|Software=Software"
              "|Foods=Food & Beverage|Consulting=Consulting|Manufacturing=Manufacturing"
              "|Health=Healthcare"
              "|Realty=Real Estate|Analytics=Software|Capital=Financial Services|Media=Media"
              "|Energy=Energy|Robotics=Electronics",
        brands="Summit|Redwood|Blue Ridge|Pioneer|Evergreen|Keystone|Harbor|Northstar|Lakeside"
               "|Granite",
        cores="{s} {w}|{p} {w}|{s} & {s2}|{b} {w}|{b} {w}|{f} {s} {w}",
        suffixes="Inc.|LLC|Corp.|Inc.|LLP", fmt="{core} {x}",
    ),
    "GB": dict(
        name="United Kingdom", weight=7, tz=0, tld="co.uk",
        personal="gmail.com|btinternet.com|outlook.com|yahoo.co.uk|sky.com",
        phone="+44 {a}###", mobile="+44 7700 900###",
        cities="London;Greater London;EC#@ #@@;20 7946 0"
               "|Manchester;Greater Manchester;M# #@@;161 496 0"
               "|Birmingham;West Midlands;B# #@@;121 496 0|Edinburgh;Scotland;EH# #@@;131 496 0"
               "|Bristol;Bristol;BS# #@@;117 496 0|Leeds;West Yorkshire;LS# #@@;113 496 0"
               "|Cardiff;Wales;CF## #@@;29 2018 0",
        streets="High Street|King's Road|Deansgate|Princes Street|Oxford Road|Park Row"
                "|Queen Street|Victoria Street",
        street="{n} {st}",
        first_m="Oliver|Harry|George|Jack|Thomas|William|Rhys|Seán|Callum|Owen",
        first_f="Amelia|Olivia|Isla|Emily|Siobhán|Niamh|Charlotte|Sophie|Eleanor|Chloë",
        last="Smith|Jones|Taylor|Brown|Wilson|Evans|O'Connor|McDonald|Thomas|Roberts|Walker"
             "|Wright|Hughes|Davies",
        words="Logistics=Logistics|Building Services=Construction|Consulting=Consulting"
              "|Foods=Food & Beverage|Engineering=Manufacturing|Software=Software"
              "|Property=Real Estate|Media=Media|Financial=Financial Services|Energy=Energy",
        brands="Albion|Thames|Pennine|Highland|Crown|Oakwood|Kingsway|Meridian",
        cores="{s} {w}|{s} & {s2}|{p} {w}|{b} {w}|{f} {s} {w}",
        suffixes="Ltd|Ltd|plc|LLP", fmt="{core} {x}",
    ),
    "DE": dict(
        name="Germany", weight=10, tz=1, tld="de",
        personal="web.de|gmx.de|t-online.de|gmail.com|posteo.de",
        phone="+49 {a} #######", mobile="+49 17# #######",
        cities="Berlin;Berlin;1####;30|Hamburg;Hamburg;2####;40|München;Bayern;8####;89"
               "|Köln;Nordrhein-Westfalen;50###;221|Frankfurt am Main;Hessen;60###;69"
               "|Stuttgart;Baden-Württemberg;70###;711|Düsseldorf;Nordrhein-Westfalen;40###;211"
               "|Leipzig;Sachsen;04###;341|Nürnberg;Bayern;90###;911",
        streets="Hauptstraße|Schloßstraße|Königsallee|Maximilianstraße|Bahnhofstraße"
                "|Friedrichstraße|Mönckebergstraße|Karl-Liebknecht-Straße|Große Bleichen"
                "|Kurfürstendamm",
        street="{st} {n}",
        first_m="Jürgen|Jörg|Günther|Björn|Lukas|Maximilian|Jörn|Uwe|Sören|Matthias|Klaus",
        first_f="Anna|Lea|Hannah|Bärbel|Käthe|Sabine|Ursula|Lena|Jana|Dörte|Renate",
        last="Müller|Schmidt|Schneider|Fischer|Weiß|Schäfer|Köhler|Jäger|Groß|Hoffmann|Krüger"
             "|Böhm|Wagner|Becker|Schröder|Förster|Günther|Meißner",
        words="Maschinenbau=Manufacturing|Logistik=Logistics|Bau=Construction"
              "|Elektrotechnik=Electronics|Lebensmittel=Food & Beverage|Software=Software"
              "|Immobilien=Real Estate|Brauerei=Food & Beverage|Autohaus=Automotive"
              "|Steuerberatung=Financial Services|Druckerei=Media|Gebäudetechnik=Construction",
        cores="{s} {w}|{w} {s}|{s} & Söhne|{w} {p}|{s} & {s2}|{f} {s} {w}",
        suffixes="GmbH|AG|GmbH & Co. KG|e.K.|GmbH", fmt="{core} {x}",
    ),
    "FR": dict(
        name="France", weight=8, tz=1, tld="fr",
        personal="orange.fr|free.fr|laposte.net|gmail.com|wanadoo.fr",
        phone="+33 {a} ## ## ## ##", mobile="+33 6 ## ## ## ##",
        cities="Paris;Île-de-France;750##;1|Lyon;Auvergne-Rhône-Alpes;6900#;4"
               "|Marseille;Provence-Alpes-Côte d'Azur;130##;4|Toulouse;Occitanie;310##;5"
               "|Bordeaux;Nouvelle-Aquitaine;330##;5|Nantes;Pays de la Loire;440##;2"
               "|Lille;Hauts-de-France;590##;3|Strasbourg;Grand Est;670##;3"
               "|Nice;Provence-Alpes-Côte d'Azur;060##;4",
        streets="rue de Rivoli|avenue des Champs-Élysées|boulevard Haussmann"
                "|rue du Faubourg Saint-Honoré|place Bellecour|rue Sainte-Catherine"
                "|quai des Chartrons|rue de la République|cours Mirabeau",
        street="{n} {st}",
        first_m="François|Jérôme|Théo|Loïc|Benoît|Hervé|Rémi|Grégoire|Mathéo|Étienne",
        first_f="Hélène|Chloé|Élodie|Zoé|Anaïs|Gaëlle|Céline|Amélie|Léa|Noémie",
        last="Martin|Bernard|Dubois|Lefèvre|Lemaître|Girard|Rousseau|Chevalier|Faure|Mercier"
             "|Lévêque|Perrin|Lefebvre|Moreau|Bouchard|Fournier|Gauthier|Leroy",
        words="Boulangerie=Food & Beverage|Transports=Logistics|Bâtiment=Construction"
              "|Conseil=Consulting|Électricité=Energy|Métallurgie=Manufacturing"
              "|Pharmacie=Pharmaceuticals|Vins=Food & Beverage|Informatique=Software"
              "|Immobilier=Real Estate|Éditions=Media",
        cores="{w} {s}|{s} & Fils|{s} {w}|{w} de {p}|{s} et {s2}|{w} {f} {s}",
        suffixes="SARL|SAS|S.A.|EURL", fmt="{core} {x}",
    ),
    "ES": dict(
        name="Spain", weight=6, tz=1, tld="es",
        personal="gmail.com|hotmail.es|telefonica.net|yahoo.es",
        phone="+34 {a} ### ###", mobile="+34 6## ### ###",
        cities="Madrid;Madrid;280##;91#|Barcelona;Barcelona;080##;93#|Valencia;Valencia;460##;96#"
               "|Sevilla;Sevilla;410##;95#|Bilbao;Vizcaya;480##;94#|Málaga;Málaga;290##;95#"
               "|Zaragoza;Zaragoza;500##;976|A Coruña;A Coruña;150##;981",
        streets="Calle de Alcalá|Gran Vía|Paseo de Gracia|Calle Mayor|Avenida de la Constitución"
                "|Calle Serrano|Rambla de Catalunya|Calle Larios",
        street="{st}, {n}",
        first_m="José|Javier|Álvaro|Sergio|Jesús|Raúl|Andrés|Íñigo|Rubén|Martín",
        first_f="María|Lucía|Ángela|Begoña|Nuria|Inés|Rocío|Mónica|Sofía|Paula",
        last="García|Martínez|López|Sánchez|Pérez|Gómez|Núñez|Muñoz|Ibáñez|Jiménez|Álvarez"
             "|Peña|Fernández|Rodríguez|Castaño|Ortiz|Calderón",
        words="Construcciones=Construction|Transportes=Logistics|Alimentación=Food & Beverage"
              "|Distribuciones=Wholesale|Talleres=Automotive|Consultores=Consulting"
              "|Inmobiliaria=Real Estate|Bodegas=Food & Beverage|Energías=Energy"
              "|Informática=Software",
        cores="{w} {s}|{s} e Hijos|{w} {p}|{s} y {s2}|{w} {f} {s}",
        suffixes="S.L.|S.A.|S.L.U.", fmt="{core} {x}",
    ),
    "PT": dict(
        name="Portugal", weight=6, tz=0, tld="pt",
        personal="sapo.pt|gmail.com|hotmail.com|netcabo.pt",
        phone="+351 {a} ### ###", mobile="+351 9## ### ###",
        cities="Lisboa;Lisboa;1###-###;21#|Porto;Porto;4###-###;22#|Braga;Braga;47##-###;253"
               "|Coimbra;Coimbra;30##-###;239|Faro;Faro;80##-###;289|Aveiro;Aveiro;38##-###;234",
        streets="Rua Augusta|Avenida da Liberdade|Rua de Santa Catarina|Rua do Ouro"
                "|Avenida dos Aliados|Rua Garrett|Praça do Comércio|Rua da Prata",
        street="{st}, {n}",
        first_m="João|José|António|Francisco|Gonçalo|Tomás|Duarte|Rui|Nuno|Luís",
        first_f="Maria|Ana|Inês|Beatriz|Leonor|Conceição|Margarida|Mariana|Sofia|Joana",
        last="Silva|Santos|Ferreira|Pereira|Gonçalves|Simões|Magalhães|Araújo|Brandão"
             "|Guimarães|Lopes|Fernandes|Gaspar|Sá|Conceição|Assunção|Monteiro|Carvalho",
        words="Construções=Construction|Transportes=Logistics|Vinhos=Food & Beverage"
              "|Comércio=Retail|Metalúrgica=Manufacturing|Informática=Software|Clínica=Healthcare"
              "|Hotelaria=Hospitality|Imobiliária=Real Estate|Têxteis=Textiles",
        cores="{w} {s}|{s} & Filhos|{s} {w}|{w} {p}|{s}, {s2} & Associados|{w} {f} {s}",
        suffixes="Lda.|S.A.|Lda.|Unipessoal Lda.", fmt="{core}, {x}",
    ),
    "BR": dict(
        name="Brazil", weight=8, tz=-3, tld="com.br",
        personal="gmail.com|uol.com.br|bol.com.br|hotmail.com|terra.com.br",
        phone="+55 {a} 3###-####", mobile="+55 {a} 9####-####",
        cities="São Paulo;SP;0####-###;11|Rio de Janeiro;RJ;2####-###;21"
               "|Belo Horizonte;MG;3####-###;31|Curitiba;PR;8####-###;41"
               "|Porto Alegre;RS;9####-###;51|Salvador;BA;4####-###;71|Recife;PE;5####-###;81"
               "|Florianópolis;SC;88###-###;48|Brasília;DF;70###-###;61|Goiânia;GO;74###-###;62",
        streets="Avenida Paulista|Rua Oscar Freire|Rua da Consolação|Avenida Atlântica"
                "|Rua XV de Novembro|Avenida Brasil|Rua das Laranjeiras|Avenida Beira-Mar",
        street="{st}, {n}",
        first_m="João|Pedro|Lucas|Gabriel|Thiago|Matheus|Luiz|André|Caio|Vinícius",
        first_f="Ana|Luíza|Júlia|Vitória|Letícia|Fernanda|Camila|Beatriz|Lívia|Patrícia",
        last="Silva|Souza|Oliveira|Rodrigues|Almeida|Araújo|Conceição|Gonçalves|Lima|Ribeiro"
             "|Cavalcanti|Magalhães|Nóbrega|Barbosa|Guimarães|Brandão",
        words="Construtora=Construction|Transportadora=Logistics|Alimentos=Food & Beverage"
              "|Comércio=Retail|Indústria=Manufacturing|Tecnologia=Software|Saúde=Healthcare"
              "|Agropecuária=Agriculture|Energia=Energy|Imóveis=Real Estate",
        cores="{w} {s}|{s} {w}|{w} {p}|{s} & {s2}|{w} {f} {s}",
        suffixes="Ltda.|S.A.|Ltda.|ME", fmt="{core} {x}",
    ),
    "MX": dict(
        name="Mexico", weight=4, tz=-6, tld="com.mx",
        personal="gmail.com|hotmail.com|prodigy.net.mx|outlook.com",
        phone="+52 {a} #### ####", mobile="+52 {a} #### ####",
        cities="Ciudad de México;CDMX;0####;55|Guadalajara;Jalisco;44###;33"
               "|Monterrey;Nuevo León;64###;81|Puebla;Puebla;72###;22"
               "|Querétaro;Querétaro;76###;44|Mérida;Yucatán;97###;99",
        streets="Avenida Reforma|Avenida Insurgentes Sur|Calle Madero|Avenida Chapultepec"
                "|Calzada Independencia|Paseo de Montejo",
        street="{st} {n}",
        first_m="José|Juan|Luis|Carlos|Jesús|Héctor|Ramón|Sebastián|Emiliano|Tomás",
        first_f="María|Guadalupe|Ximena|Sofía|Valeria|Fernanda|Mónica|Itzel|Verónica|Renata",
        last="Hernández|García|Martínez|López|González|Pérez|Rodríguez|Ramírez|Guzmán|Treviño"
             "|Domínguez|Ordóñez|Núñez|Cárdenas",
        words="Constructora=Construction|Transportes=Logistics|Alimentos=Food & Beverage"
              "|Comercializadora=Wholesale|Autopartes=Automotive|Consultoría=Consulting"
              "|Farmacéutica=Pharmaceuticals|Tecnología=Software|Agrícola=Agriculture",
        cores="{w} {s}|Grupo {s}|{w} {p}|{w} {s} {s2}|{w} {f} {s}",
        suffixes="S.A. de C.V.|S. de R.L. de C.V.|S.A.P.I. de C.V.", fmt="{core} {x}",
    ),
    "NO": dict(
        name="Norway", weight=3, tz=1, tld="no",
        personal="online.no|gmail.com|hotmail.no|outlook.com",
        phone="+47 {a} ## ## ##", mobile="+47 9## ## ###",
        cities="Oslo;Oslo;0###;22|Bergen;Vestland;5###;55|Trondheim;Trøndelag;7###;73"
               "|Stavanger;Rogaland;4###;51|Tromsø;Troms;9###;77|Ålesund;Møre og Romsdal;60##;70",
        streets="Karl Johans gate|Storgata|Bryggen|Kongens gate|Øvre Slottsgate|Strandgata"
                "|Torggata",
        street="{st} {n}",
        first_m="Bjørn|Ørjan|Håkon|Sondre|Øyvind|Pål|Jørgen|Kåre|Magnus|Eirik",
        first_f="Åse|Ingrid|Solveig|Kjersti|Bjørg|Sigrid|Tuva|Ragnhild|Marte|Gøril",
        last="Hansen|Johansen|Bjørnstad|Sæther|Ødegård|Løvås|Haugen|Strøm|Dahl|Brækhus"
             "|Solberg|Nygård|Aasen|Kvalheim",
        words="Rørlegger=Construction|Bygg=Construction|Fiskeri=Agriculture|Shipping=Logistics"
              "|Eiendom=Real Estate|Elektro=Energy|Regnskap=Financial Services"
              "|Sjømat=Food & Beverage|Data=Software",
        cores="{s} {w}|{w} {p}|{s} & {s2} {w}|{p} {w}|{f} {s} {w}",
        suffixes="AS|ASA|AS", fmt="{core} {x}",
    ),
    "SE": dict(
        name="Sweden", weight=4, tz=1, tld="se",
        personal="telia.com|gmail.com|hotmail.se|outlook.com|bredband.net",
        phone="+46 {a} ### ## ##", mobile="+46 7# ### ## ##",
        cities="Stockholm;Stockholms län;1## ##;8|Göteborg;Västra Götaland;4## ##;31"
               "|Malmö;Skåne;2## ##;40|Uppsala;Uppsala län;75# ##;18"
               "|Västerås;Västmanland;72# ##;21|Linköping;Östergötland;58# ##;13"
               "|Umeå;Västerbotten;90# ##;90",
        streets="Drottninggatan|Kungsgatan|Storgatan|Sveavägen|Götgatan|Vasagatan"
                "|Södra Förstadsgatan|Östra Hamngatan",
        street="{st} {n}",
        first_m="Björn|Göran|Måns|Örjan|Anders|Lars|Pär|Åke|Nils|Oskar",
        first_f="Åsa|Märta|Linnéa|Ebba|Karin|Maja|Sofie|Ylva|Agnes|Elin",
        last="Andersson|Johansson|Åkesson|Öberg|Sjögren|Löfgren|Ström|Ekström|Nyström"
             "|Bäckström|Lindqvist|Håkansson|Söderberg|Ågren",
        words="Bygg=Construction|Konsult=Consulting|Transport=Logistics"
              "|Livsmedel=Food & Beverage|Fastigheter=Real Estate|Måleri=Construction"
              "|Verkstad=Manufacturing|Data=Software|Möbler=Retail",
        cores="{s} {w}|{s}s {w}|{p} {w}|{w} i {p}|{f} {s} {w}",
        suffixes="AB|AB|HB", fmt="{core} {x}",
    ),
    "DK": dict(
        name="Denmark", weight=3, tz=1, tld="dk",
        personal="gmail.com|mail.dk|hotmail.dk|outlook.dk",
        phone="+45 {a} ## ## ##", mobile="+45 2# ## ## ##",
        cities="København;Hovedstaden;1###;3#|Aarhus;Midtjylland;8000;8#"
               "|Odense;Syddanmark;5000;6#|Aalborg;Nordjylland;9000;9#|Esbjerg;Syddanmark;6700;7#",
        streets="Strøget|Nørregade|Østergade|Vesterbrogade|Søndergade|Åboulevarden|Algade",
        street="{st} {n}",
        first_m="Søren|Jørgen|Asbjørn|Mads|Rasmus|Frederik|Bjarke|Jens|Morten|Kasper",
        first_f="Mette|Sørine|Frederikke|Signe|Ida|Maja|Trine|Lærke|Birgitte|Astrid",
        last="Nielsen|Jørgensen|Møller|Sørensen|Østergaard|Kjær|Lund|Poulsen|Rasmussen|Bøgh"
             "|Kragh|Thomsen|Brøndum",
        words="Tømrer=Construction|Maskinfabrik=Manufacturing|Rådgivning=Consulting"
              "|Transport=Logistics|Ejendomme=Real Estate|Mejeri=Food & Beverage"
              "|Vindenergi=Energy|Design=Media",
        cores="{s} {w}|{s} & {s2}|{p} {w}|{s}s {w}|{f} {s} {w}",
        suffixes="A/S|ApS|A/S", fmt="{core} {x}",
    ),
    "FI": dict(
        name="Finland", weight=2, tz=2, tld="fi",
        personal="gmail.com|elisanet.fi|kolumbus.fi|outlook.com",
        phone="+358 {a} ### ####", mobile="+358 4# ### ####",
        cities="Helsinki;Uusimaa;00###;9|Espoo;Uusimaa;02###;9|Tampere;Pirkanmaa;33###;3"
               "|Turku;Varsinais-Suomi;20###;2|Oulu;Pohjois-Pohjanmaa;90###;8"
               "|Jyväskylä;Keski-Suomi;40###;14",
        streets="Mannerheimintie|Aleksanterinkatu|Hämeenkatu|Yliopistonkatu|Pohjoisesplanadi"
                "|Väinämöisenkatu",
        street="{st} {n}",
        first_m="Mikko|Jukka|Jyrki|Eetu|Väinö|Timo|Matti|Jari|Pekka|Ville",
        first_f="Päivi|Sari|Aino|Satu|Tuula|Mervi|Kaisa|Hanna|Minna|Sanna",
        last="Virtanen|Mäkinen|Hämäläinen|Jääskeläinen|Kärkkäinen|Nieminen|Könönen|Heikkinen"
             "|Järvinen|Lähteenmäki|Koskinen|Mäkelä",
        words="Rakennus=Construction|Kuljetus=Logistics|Sähkö=Energy|Konepaja=Manufacturing"
              "|Ohjelmistot=Software|Kiinteistöt=Real Estate|Leipomo=Food & Beverage",
        cores="{s} {w}|{w} {s}|{s} & {s2}|{w}-{s}|{f} {s} {w}",
        suffixes="Oy|Oy|Oyj|Ky", fmt="{core} {x}",
    ),
    "PL": dict(
        name="Poland", weight=5, tz=1, tld="pl",
        personal="wp.pl|onet.pl|interia.pl|o2.pl|gmail.com",
        phone="+48 {a} ### ## ##", mobile="+48 6## ### ###",
        cities="Warszawa;Mazowieckie;0#-###;22|Kraków;Małopolskie;3#-###;12"
               "|Łódź;Łódzkie;9#-###;42|Wrocław;Dolnośląskie;5#-###;71"
               "|Poznań;Wielkopolskie;6#-###;61|Gdańsk;Pomorskie;80-###;58"
               "|Szczecin;Zachodniopomorskie;7#-###;91|Katowice;Śląskie;40-###;32",
        streets="ul. Marszałkowska|ul. Floriańska|ul. Piotrkowska|al. Jerozolimskie"
                "|ul. Świętojańska|ul. Długa|ul. Świdnicka|ul. Półwiejska",
        street="{st} {n}",
        first_m="Łukasz|Paweł|Michał|Wojciech|Grzegorz|Jarosław|Maciej|Krzysztof|Bartłomiej"
                "|Mikołaj",
        first_f="Zofia|Małgorzata|Agnieszka|Katarzyna|Jolanta|Grażyna|Magdalena|Joanna|Urszula"
                "|Dorota",
        last="Nowak|Kowalski~Kowalska|Wiśniewski~Wiśniewska|Wójcik|Kowalczyk"
             "|Kamiński~Kamińska|Lewandowski~Lewandowska|Zieliński~Zielińska"
             "|Szymański~Szymańska|Woźniak|Dąbrowski~Dąbrowska|Błaszczyk|Wróbel"
             "|Jabłoński~Jabłońska|Król|Mazur",
        words="Przedsiębiorstwo Budowlane=Construction|Zakłady Mięsne=Food & Beverage"
              "|Hurtownia=Wholesale|Transport=Logistics|Usługi Informatyczne=Software"
              "|Biuro Rachunkowe=Financial Services|Meble=Retail|Drukarnia=Media",
        cores="{w} {s}|{s} i Syn|{w} {p}|{s} {w}|{w} {f} {s}",
        suffixes="Sp. z o.o.|S.A.|Sp. z o.o.|Sp.k.", fmt="{core} {x}",
    ),
    "TR": dict(
        name="Türkiye", weight=3, tz=3, tld="com.tr",
        personal="gmail.com|hotmail.com|yandex.com.tr|outlook.com",
        phone="+90 {a} ### ## ##", mobile="+90 5## ### ## ##",
        cities="İstanbul;İstanbul;34###;212|Ankara;Ankara;06###;312|İzmir;İzmir;35###;232"
               "|Bursa;Bursa;16###;224|Antalya;Antalya;07###;242",
        streets="İstiklal Caddesi|Bağdat Caddesi|Atatürk Bulvarı|Kıbrıs Şehitleri Caddesi"
                "|Cumhuriyet Caddesi|Gazi Mustafa Kemal Bulvarı",
        street="{st} No: {n}",
        first_m="Mehmet|Mustafa|Ahmet|Gökhan|Ömer|İbrahim|Çağlar|Barış|Oğuz|Hüseyin",
        first_f="Ayşe|Fatma|Çağla|Şule|Zeynep|Gülşen|Büşra|Elif|Özlem|Merve",
        last="Yılmaz|Kaya|Demir|Şahin|Çelik|Öztürk|Aydın|Doğan|Güneş|Arslan|Koç|Kılıç"
             "|Özdemir|Erdem",
        words="İnşaat=Construction|Lojistik=Logistics|Gıda=Food & Beverage|Tekstil=Textiles"
              "|Otomotiv=Automotive|Yazılım=Software|Enerji=Energy|Ticaret=Wholesale"
              "|Mobilya=Retail",
        cores="{s} {w}|{s}oğlu {w}|{p} {w}|{s} {w} ve Ticaret|{f} {s} {w}",
        suffixes="A.Ş.|Ltd. Şti.|A.Ş.", fmt="{core} {x}",
    ),
    "GR": dict(
        name="Greece", weight=3, tz=2, tld="gr", latin=0.2,
        personal="gmail.com|otenet.gr|yahoo.gr|hotmail.com",
        phone="+30 {a} ### ####", mobile="+30 69# ### ####",
        cities="Αθήνα/Athina;Αττική;1## ##;21#"
               "|Θεσσαλονίκη/Thessaloniki;Κεντρική Μακεδονία;54# ##;231"
               "|Πάτρα/Patra;Δυτική Ελλάδα;26# ##;261|Ηράκλειο/Irakleio;Κρήτη;71# ##;281"
               "|Λάρισα/Larisa;Θεσσαλία;41# ##;241",
        streets="Οδός Ερμού|Λεωφόρος Βασιλίσσης Σοφίας|Οδός Τσιμισκή|Οδός Αιόλου"
                "|Λεωφόρος Κηφισίας|Οδός Μαιζώνος",
        street="{st} {n}",
        first_m="Γιώργος/Giorgos|Δημήτρης/Dimitris|Νίκος/Nikos|Κωνσταντίνος/Konstantinos"
                "|Ιωάννης/Ioannis|Παναγιώτης/Panagiotis|Χρήστος/Christos|Αλέξανδρος/Alexandros",
        first_f="Μαρία/Maria|Ελένη/Eleni|Αικατερίνη/Aikaterini|Σοφία/Sofia"
                "|Αναστασία/Anastasia|Δέσποινα/Despoina|Βασιλική/Vasiliki|Ευαγγελία/Evangelia",
        last="Παπαδόπουλος/Papadopoulos~Παπαδοπούλου/Papadopoulou|Οικονόμου/Oikonomou"
             "|Γεωργίου/Georgiou|Νικολάου/Nikolaou|Βασιλείου/Vasileiou"
             "|Καραγιάννης/Karagiannis~Καραγιάννη/Karagianni|Αντωνίου/Antoniou"
             "|Δημητρίου/Dimitriou|Μαυρίδης/Mavridis~Μαυρίδου/Mavridou",
        words="Κατασκευαστική/Kataskevastiki=Construction|Μεταφορική/Metaforiki=Logistics"
              "|Εμπορική/Emporiki=Wholesale|Τροφίμων/Trofimon=Food & Beverage"
              "|Πληροφορική/Pliroforiki=Software|Ναυτιλιακή/Naftiliaki=Logistics"
              "|Τουριστική/Touristiki=Hospitality",
        cores="{s} {w}|{w} {p}|{s} & {s2}|{f} {s} {w}",
        suffixes="Α.Ε./SA|Ε.Π.Ε./EPE|Ι.Κ.Ε./IKE", fmt="{core} {x}",
    ),
    "AE": dict(
        name="United Arab Emirates", weight=2, tz=4, tld="ae", latin=0.4,
        personal="gmail.com|hotmail.com|eim.ae|outlook.com",
        phone="+971 {a} ### ####", mobile="+971 5# ### ####",
        cities="Dubai;Dubai;;4|Abu Dhabi;Abu Dhabi;;2|Sharjah;Sharjah;;6"
               "|Ras Al Khaimah;Ras Al Khaimah;;7",
        streets="Sheikh Zayed Road|Al Wasl Road|Corniche Street|Hamdan Street|شارع الشيخ زايد"
                "|Al Maktoum Road|King Faisal Street",
        street="{st} {n}",
        first_m="محمد/Mohammed|أحمد/Ahmed|خالد/Khalid|عمر/Omar|يوسف/Yousef|سعيد/Saeed"
                "|راشد/Rashid|حمدان/Hamdan",
        first_f="فاطمة/Fatima|عائشة/Aisha|مريم/Maryam|ليلى/Layla|سارة/Sara|نورة/Noura"
                "|حصة/Hessa|شما/Shamma",
        last="العلي/Al Ali|المنصوري/Al Mansoori|الهاشمي/Al Hashimi|النعيمي/Al Nuaimi"
             "|الشامسي/Al Shamsi|الكعبي/Al Kaabi|الفلاسي/Al Falasi|حداد/Haddad"
             "|السويدي/Al Suwaidi|خوري/Khoury",
        words="للتجارة/Trading=Wholesale|للمقاولات/Contracting=Construction"
              "|للنقل/Transport=Logistics|للتقنية/Technology=Software"
              "|للأغذية/Foods=Food & Beverage|العقارية/Properties=Real Estate"
              "|للطاقة/Energy=Energy",
        brands="الفارس/Al Fares|النخبة/Al Nukhba|الرواد/Al Rowad|الخليج/Gulf|الصقر/Al Saqr"
               "|الإمارات/Emirates|الواحة/Al Waha|النور/Al Noor|البحر/Al Bahar|الأمل/Al Amal"
               "|السلام/Al Salam|الريم/Al Reem|الجزيرة/Al Jazeera|الفجر/Al Fajr"
               "|المستقبل/Al Mustaqbal",
        cores="{b} {w}|{s} {w}",
        suffixes="ذ.م.م/LLC|ش.م.ع/PJSC|ذ.م.م/LLC", fmt="{core} {x}",
    ),
    "VN": dict(
        name="Vietnam", weight=3, tz=7, tld="com.vn",
        personal="gmail.com|yahoo.com.vn|outlook.com",
        phone="+84 {a} #### ####", mobile="+84 9# ### ## ##",
        cities="Hà Nội;Hà Nội;100###;24|TP. Hồ Chí Minh;Hồ Chí Minh;700###;28"
               "|Đà Nẵng;Đà Nẵng;550###;236|Hải Phòng;Hải Phòng;180###;225"
               "|Cần Thơ;Cần Thơ;900###;292",
        streets="Lê Lợi|Nguyễn Huệ|Đồng Khởi|Trần Hưng Đạo|Hai Bà Trưng|Lý Thường Kiệt"
                "|Điện Biên Phủ|Phố Huế",
        street="{n} {st}",
        first_m="Văn An|Minh Tuấn|Quốc Bảo|Đức Anh|Hoàng Long|Thành Đạt|Văn Hùng|Quang Huy"
                "|Tiến Dũng|Hữu Phước",
        first_f="Thị Lan|Thị Hương|Thu Trang|Ngọc Ánh|Thị Mai|Phương Linh|Thanh Hà|Minh Châu"
                "|Bảo Ngọc|Thúy Hằng",
        last="Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ|Hồ|Ngô|Dương",
        words="Thương mại=Wholesale|Xây dựng=Construction|Vận tải=Logistics"
              "|Công nghệ=Software|Thực phẩm=Food & Beverage|Dệt may=Textiles"
              "|Bất động sản=Real Estate|Điện tử=Electronics",
        brands="Phú Thịnh|Hòa Bình|An Phát|Minh Long|Thành Công|Việt Tiến|Hưng Thịnh|Sài Gòn"
               "|Kim Long|Đại Phát|Tân Phú|Hoàng Gia|Phương Nam|Bình Minh|Trường Sơn|Sông Hồng"
               "|Hải Âu|Ánh Dương",
        cores="{w} {b}|{w} {b}|{w} {s}",
        suffixes="Công ty TNHH|Công ty Cổ phần|Công ty TNHH", fmt="{x} {core}",
    ),
    "JP": dict(
        name="Japan", weight=4, tz=9, tld="co.jp", latin=0.1,
        personal="gmail.com|yahoo.co.jp|docomo.ne.jp|icloud.com",
        phone="+81 {a}-####", mobile="+81 90-####-####",
        cities="東京/Tokyo;東京都;1##-####;3-####|大阪/Osaka;大阪府;53#-####;6-####"
               "|横浜/Yokohama;神奈川県;22#-####;45-###|名古屋/Nagoya;愛知県;45#-####;52-###"
               "|札幌/Sapporo;北海道;06#-####;11-###|福岡/Fukuoka;福岡県;81#-####;92-###"
               "|京都/Kyoto;京都府;60#-####;75-###",
        streets="丸の内|西新宿|梅田|栄|大通西|天神|四条通|銀座|みなとみらい",
        street="{st}{k}-{m}-{n}",
        first_m="太郎/Taro|翔太/Shota|健一/Kenichi|大輔/Daisuke|直樹/Naoki|拓也/Takuya|誠/Makoto"
                "|蓮/Ren|悠斗/Yuto|浩二/Koji",
        first_f="花子/Hanako|美咲/Misaki|陽子/Yoko|由美/Yumi|愛/Ai|さくら/Sakura|恵子/Keiko"
                "|彩/Aya|真由美/Mayumi|優子/Yuko",
        last="佐藤/Sato|鈴木/Suzuki|高橋/Takahashi|田中/Tanaka|渡辺/Watanabe|伊藤/Ito"
             "|山本/Yamamoto|中村/Nakamura|小林/Kobayashi|加藤/Kato|吉田/Yoshida|山田/Yamada",
        words="製作所/Seisakusho=Manufacturing|商事/Shoji=Wholesale|建設/Kensetsu=Construction"
              "|運輸/Unyu=Logistics|電機/Denki=Electronics|食品/Shokuhin=Food & Beverage"
              "|システム/System=Software|不動産/Fudosan=Real Estate|薬品/Yakuhin=Pharmaceuticals",
        brands="東和/Towa|大和/Yamato|三光/Sanko|日進/Nisshin|富士/Fuji|北斗/Hokuto|昭和/Showa"
               "|桜/Sakura|光洋/Koyo|中央/Chuo|太平洋/Taiheiyo|新日本/Shin Nihon|朝日/Asahi"
               "|双葉/Futaba|若葉/Wakaba|千代田/Chiyoda|白鳥/Shiratori",
        cores="{b}{w}|{s}{w}|{b}{w}",
        suffixes="株式会社/KK|有限会社/YK|株式会社/KK", fmt="{x}{core}|{core}{x}",
    ),
    "CN": dict(
        name="China", weight=4, tz=8, tld="com.cn", latin=0.15,
        personal="qq.com|163.com|126.com|sina.com",
        phone="+86 {a} #### ####", mobile="+86 13# #### ####",
        cities="上海/Shanghai;上海市;200###;21|北京/Beijing;北京市;100###;10"
               "|深圳/Shenzhen;广东省;518###;755|广州/Guangzhou;广东省;510###;20"
               "|杭州/Hangzhou;浙江省;310###;571|成都/Chengdu;四川省;610###;28",
        streets="浦东新区世纪大道|朝阳区建国路|南山区科技园路|天河区天河路|西湖区文三路"
                "|武侯区人民南路|黄浦区南京东路",
        street="{st}{n}号",
        first_m="伟/Wei|强/Qiang|磊/Lei|军/Jun|洋/Yang|晓明/Xiaoming|志强/Zhiqiang|建华/Jianhua"
                "|浩/Hao|俊杰/Junjie",
        first_f="芳/Fang|娜/Na|秀英/Xiuying|敏/Min|静/Jing|丽/Li|婷/Ting|雪/Xue|慧敏/Huimin"
                "|欣怡/Xinyi",
        last="王/Wang|李/Li|张/Zhang|刘/Liu|陈/Chen|杨/Yang|黄/Huang|赵/Zhao|吴/Wu|周/Zhou"
             "|徐/Xu|孙/Sun",
        words="科技/Keji=Software|贸易/Maoyi=Wholesale|建筑/Jianzhu=Construction"
              "|物流/Wuliu=Logistics|电子/Dianzi=Electronics|食品/Shipin=Food & Beverage"
              "|医药/Yiyao=Pharmaceuticals|纺织/Fangzhi=Textiles|能源/Nengyuan=Energy",
        brands="华星/Huaxing|宏达/Hongda|鑫源/Xinyuan|东方/Dongfang|金桥/Jinqiao|中天/Zhongtian"
               "|恒通/Hengtong|瑞丰/Ruifeng|永盛/Yongsheng|天宇/Tianyu",
        cores="{p}{b}{w}|{b}{w}",
        suffixes="有限公司/Co Ltd|股份有限公司/Co Ltd|有限公司/Co Ltd", fmt="{core}{x}",
    ),
}

_JOB_TITLES = ("CEO|CFO|CTO|COO|Managing Director|Sales Manager|Head of Purchasing"
               "|Procurement Specialist|Office Manager|Marketing Director|IT Manager"
               "|Operations Manager|Account Executive|Finance Manager|HR Business Partner"
               "|Project Manager|Logistics Coordinator|Founder|Owner|Buyer|Product Manager"
               "|Head of Customer Success|Legal Counsel|Executive Assistant").split("|")
_LOCAL_TITLES = {
    # Titles that fit anyone (local titles are often gendered: "Diretora", "Einkaufsleiterin").
    "PT": "Gerente de Compras|Gerente Comercial|Direção Financeira|Sócio-gerente",
    "BR": "Gerente de Compras|Gerente Comercial|Analista de Suprimentos|Sócio-diretor",
    "ES": "Gerente de Compras|Gerente Comercial|Responsable de Logística|Dirección General",
    "MX": "Gerente General|Gerente de Compras|Responsable de Administración",
    "FR": "Responsable des achats|Responsable comptable|Direction commerciale|Gérant",
    "DE": "Geschäftsführung|Leitung Einkauf|Leitung Vertrieb|Prokurist|Buchhaltung",
    "PL": "Prezes Zarządu|Kierownik Zakupów|Dyrektor Handlowy|Księgowość",
    "JP": "代表取締役|営業部長|購買課長|総務部",
    "CN": "总经理|采购经理|销售总监|财务主管",
    "NO": "Daglig leder|Innkjøpssjef",
    "SE": "Vd|Inköpschef|Ekonomichef",
    "TR": "Genel Müdür|Satın Alma Müdürü",
    "VN": "Giám đốc|Trưởng phòng kinh doanh",
}

_TOPICS = ("pricing", "the renewal", "delivery delays", "the new catalogue", "the Q3 forecast",
           "payment terms", "onboarding", "the pilot project", "the support contract",
           "a volume discount", "the integration", "training dates", "the tender",
           "spare parts", "the service level agreement", "the rollout plan", "invoicing")
_PRODUCTS = ("the ERP rollout", "Model X-200", "spare parts", "the maintenance contract",
             "cloud licences", "fleet service", "the packaging line", "the Premium plan",
             "the warehouse scanners", "the annual framework order", "consulting days")
_FAIRS = ("Web Summit", "Hannover Messe", "CeBIT", "Mobile World Congress", "Vivatech", "NRF",
          "Slush", "Expo Real", "SIAL Paris", "Canton Fair")
_CITIES_FOR_TRAVEL = ("Lisboa", "São Paulo", "München", "Paris", "Madrid", "Oslo", "Kraków",
                      "Tokyo", "Shanghai", "Dubai", "Athens", "New York", "London")

_SUBJECTS = {
    ActivityType.EMAIL: ("Re: Quote {q}", "Invoice {inv}", "Proposal for {prod}",
                         "Meeting follow-up", "Contract renewal {year}",
                         "Order confirmation PO-{q}",
                         "Re: Delivery schedule", "Price list {year}", "Introduction",
                         "Re: Support ticket #{inv}", "Payment reminder", "Updated specifications",
                         "Re: {topic}", "Fwd: {topic}", "Question about {topic}"),
    ActivityType.PHONE_CALL: ("Call about {topic}", "Follow-up call", "Discussed {topic}",
                              "Left voicemail", "Intro call", "Quarterly check-in",
                              "Called back about {topic}", "Support call: {topic}",
                              "Reference call", "Quick call about {prod}"),
    ActivityType.APPOINTMENT: ("Meeting: {topic}", "Product demo", "Quarterly business review",
                               "Site visit", "Contract negotiation", "Lunch", "Workshop: {topic}",
                               "Kick-off {prod}", "Booth visit at {fair}", "Training session",
                               "Steering committee", "Presentation of {prod}"),
    ActivityType.TASK: ("Send quote for {prod}", "Prepare proposal", "Follow up on invoice {inv}",
                        "Call back about {topic}", "Update contact details", "Schedule demo",
                        "Renew contract", "Check payment of invoice {inv}", "Send samples",
                        "Book travel to {city}", "Prepare QBR slides", "Send NDA",
                        "Review {topic}", "Chase signed order PO-{q}"),
    ActivityType.NOTE: ("Met at {fair}", "Budget approved", "Key decision maker",
                        "Prefers email", "Reorganisation", "New purchasing process",
                        "Competitor offer", "Feedback on {prod}", "Expansion plans"),
}
_DESCRIPTIONS = (
    "Customer asked for a revised quote with a 5% volume discount.\nSend by Friday.",
    "Discussed the timeline; they want to start after the summer.",
    "Budget is approved for next year. Decision expected within four weeks.",
    "Complaint about late delivery of the last order. Offered a credit note.",
    "They are comparing us with two competitors; price is the main criterion.",
    "Agreed next steps:\n- send the updated specifications\n- schedule a technical call\n"
    "- prepare the contract draft",
    "Very positive meeting. The new head of purchasing joins in March.",
    "Needs approval from the board before signing.",
    "Asked for references from customers in the same industry.",
    "Invoice was paid twice by mistake; refund requested.",
    "Cliente pediu nova proposta até sexta-feira.",
    "Kunde wünscht Rückruf wegen Lieferverzögerung.",
    "Le client souhaite une démo en février, avec l'équipe technique.",
    "Klient prosi o ofertę na przyszły kwartał.",
    "El cliente confirmó el pedido; falta la orden de compra.",
    "Kunden vil ha tilbud på service-avtale for neste år.",
    "お見積りの再送を依頼されました。来週までに対応。",
    "客户要求下周提供报价。",
    "Khách hàng muốn gặp lại vào tháng sau.",
    "Ο πελάτης ζήτησε νέα προσφορά.",
    "Follow-up from the trade fair: interested in the premium plan.",
    "Renewal due in three months. Usage is up 30% on last year.",
)
_CONTACT_NOTES = ("Prefers email.", "Speaks English and Portuguese.", "Call mornings only.",
                  "Met at the trade fair.", "Decision maker for purchases above 50k.",
                  "Assistant handles scheduling.", "Former customer at another company.",
                  "Newsletter subscriber.", "Prefers phone calls.", "Bilingual: French/German.")
_ACCOUNT_NOTES = ("Key account since {year}.", "Family-owned business, third generation.",
                  "Framework agreement renewed every January.",
                  "Pays reliably; 30 days net.", "Expanding into new markets next year.",
                  "Met at {fair}; strong interest in {prod}.",
                  "Central purchasing: orders go through headquarters.",
                  "Seasonal business: most orders between March and June.",
                  "Part of a tender process every two years.")
_DIVISIONS = ("Services", "Logistics", "Retail", "Digital", "Components", "Trading",
              "Real Estate", "Holding", "Finance", "Technology")
_LOCATIONS = ("Office", "Client site", "Zoom", "Microsoft Teams", "Google Meet", "Phone bridge",
              "Café Central", "Their headquarters", "Our office, room 2.14", "Trade fair booth")

_TYPE_WEIGHTS = ((ActivityType.EMAIL, 30), (ActivityType.PHONE_CALL, 24),
                 (ActivityType.NOTE, 14), (ActivityType.TASK, 19),
                 (ActivityType.APPOINTMENT, 13))


# --------------------------------------------------------------------------- pools
_ULID_CHARS = base32.ENCODE  # python-ulid's Crockford alphabet
_ULID_PAIRS = [a + b for a in _ULID_CHARS for b in _ULID_CHARS]


def _ulid_text(value: int) -> str:
    """The 26-character text of a 128-bit ULID, as `str(ulid.ULID.from_int(value))` gives it.

    Encoded here ten bits at a time because python-ulid's per-character encoder costs seconds at
    size L; the tests check that both agree."""
    p = _ULID_PAIRS
    return "".join((
        _ULID_CHARS[value >> 125], p[(value >> 115) & 1023], p[(value >> 105) & 1023],
        p[(value >> 95) & 1023], p[(value >> 85) & 1023], p[(value >> 75) & 1023],
        p[(value >> 65) & 1023], p[(value >> 55) & 1023], p[(value >> 45) & 1023],
        p[(value >> 35) & 1023], p[(value >> 25) & 1023], p[(value >> 15) & 1023],
        p[(value >> 5) & 1023], _ULID_CHARS[value & 31]))


def _ascii_words(text: str) -> str:
    """`Al Mansoori` -> `al mansoori`, `Müller` -> `muller`: for emails and web domains."""
    folded = fold(text)
    kept = "".join(ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else " " for ch in folded)
    return " ".join(kept.split())


def _entry(text: str) -> tuple[str, str]:
    native, slash, roman = text.partition("/")
    if slash and native.isascii():  # "A/S" is a name, not a romanisation
        native, roman = text, ""
    words = _ascii_words(roman or native)
    if not words:
        raise ValueError(f"demo pool entry {text!r} needs a romanisation")
    return native, words


def _entries(spec: str) -> list[tuple[str, str]]:
    return [_entry(item) for item in spec.split("|") if item]


class _Pattern:
    """A number or code with random digits (#) and letters (@), formatted in one call."""

    _LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

    def __init__(self, pattern: str) -> None:
        self.digits = pattern.count("#")
        self.letters = pattern.count("@")
        out, d, letter = [], 0, 0
        for ch in pattern:
            if ch == "#":
                out.append(f"{{0[{d}]}}")
                d += 1
            elif ch == "@":
                out.append(f"{{1[{letter}]}}")
                letter += 1
            else:
                out.append(ch.replace("{", "{{").replace("}", "}}"))
        self.format = "".join(out).format
        self.scale = 10 ** self.digits
        self.width = f"0{self.digits}d" if self.digits else ""

    def __call__(self, rng: random.Random) -> str:
        digits = format(int(rng.random() * self.scale), self.width) if self.digits else ""
        letters = "".join(rng.choices(self._LETTERS, k=self.letters)) if self.letters else ""
        return self.format(digits, letters)


@dataclass
class _City:
    name: str
    roman: str
    state: str
    postal: _Pattern | None
    phone: _Pattern
    mobile: _Pattern


@dataclass
class _Country:
    code: str
    name: str
    weight: int
    tz: int
    tld: str
    latin: float
    personal: list[str]
    cities: list[_City]
    streets: list[str]
    street: str
    first_m: list[tuple[str, str]]
    first_f: list[tuple[str, str]]
    last_m: list[tuple[str, str]]
    last_f: list[tuple[str, str]]
    words: list[tuple[str, str, str]]  # native, ascii words, industry
    brands: list[tuple[str, str]]
    cores: list[str]
    suffixes: list[tuple[str, str]]
    formats: list[str]
    titles: list[str]


def _build_country(code: str, spec: dict[str, Any]) -> _Country:
    cities = []
    for item in spec["cities"].split("|"):
        city, state, postal, area = item.split(";")
        native, roman = _entry(city)
        # Area codes may carry random digits ("21#"); the number patterns take them in.
        cities.append(_City(native, roman, state, _Pattern(postal) if postal else None,
                            _Pattern(spec["phone"].replace("{a}", area)),
                            _Pattern(spec["mobile"].replace("{a}", area))))
    last_m, last_f = [], []
    for item in spec["last"].split("|"):
        male, _, female = item.partition("~")
        last_m.append(_entry(male))
        last_f.append(_entry(female or male))
    words = []
    for item in spec["words"].split("|"):
        word, _, industry = item.partition("=")
        native, roman = _entry(word)
        words.append((native, roman, industry))
    titles = list(_JOB_TITLES)
    if code in _LOCAL_TITLES:  # local titles for about a third of the people
        local = _LOCAL_TITLES[code].split("|")
        titles += local * max(1, len(_JOB_TITLES) // (2 * len(local)))
    return _Country(
        code=code, name=spec["name"], weight=spec["weight"], tz=spec["tz"], tld=spec["tld"],
        latin=spec.get("latin", 0.0), personal=spec["personal"].split("|"), cities=cities,
        streets=spec["streets"].split("|"), street=spec["street"],
        first_m=_entries(spec["first_m"]), first_f=_entries(spec["first_f"]),
        last_m=last_m, last_f=last_f, words=words,
        brands=_entries(spec.get("brands", "")), cores=spec["cores"].split("|"),
        suffixes=_entries(spec["suffixes"]), formats=spec["fmt"].split("|"), titles=titles)


_POOLS: list[_Country] = []


def _countries() -> list[_Country]:
    if not _POOLS:
        _POOLS.extend(_build_country(code, spec) for code, spec in _COUNTRIES.items())
    return _POOLS


_TIME_OF_DAY: list[str] = []


def _times_of_day() -> list[str]:
    """"THH:MM:SSZ" for every second of a day: turning integers into stored text by lookup."""
    if not _TIME_OF_DAY:
        _TIME_OF_DAY.extend(f"T{h:02d}:{m:02d}:{s:02d}Z"
                            for h in range(24) for m in range(60) for s in range(60))
    return _TIME_OF_DAY


def _subject_pool(rng: random.Random, templates: tuple[str, ...], year: int,
                  size: int = 400) -> list[str]:
    pool = []
    for _ in range(size):
        template = rng.choice(templates)
        pool.append(template.format(
            q=f"Q-{year - rng.randint(0, 1)}-{rng.randint(100, 999)}",
            inv=f"{rng.randint(10000, 99999)}", prod=rng.choice(_PRODUCTS),
            topic=rng.choice(_TOPICS), year=year + rng.randint(-1, 1),
            fair=rng.choice(_FAIRS), city=rng.choice(_CITIES_FOR_TRAVEL)))
    return pool


# --------------------------------------------------------------------------- the generator
class _Generator:
    def __init__(self, rng: random.Random, now: datetime, user: str) -> None:
        self.rng = rng
        self.now = int(now.timestamp())
        self.local_now = now.astimezone()  # "today" in the agenda is the machine's local day
        self.user = user
        colleagues = [c for c in COLLEAGUES if c != user][:4]
        self.owners = [user, *colleagues]
        # About 40% of everything is the user's own: their agenda is full but not everything.
        self.owner_weights = list(accumulate([40, 18, 16, 14, 12]))
        self.owner_emails = {o: f"{_ascii_words(o).replace(' ', '.') or 'sales'}@{COMPANY_DOMAIN}"
                             for o in self.owners}
        self.countries = _countries()
        self.country_weights = list(accumulate(c.weight for c in self.countries))
        self.first_day = (self.now - 8 * _YEAR) // _DAY
        start = date(1970, 1, 1) + timedelta(days=self.first_day)
        span = (self.now + 2 * _AHEAD) // _DAY - self.first_day + 1
        self.days = [(start + timedelta(days=d)).isoformat() for d in range(span)]
        self.tod = _times_of_day()
        self.used_names: set[str] = set()
        self.used_domains: set[str] = set()
        self.used_emails: set[str] = set()
        self.repeats: dict[str, int] = {}
        year = now.year
        self.subjects = {t: _subject_pool(rng, tpl, year) for t, tpl in _SUBJECTS.items()}
        self.account_notes = _subject_pool(rng, _ACCOUNT_NOTES, year - 4, 60)

    # -------------------------------------------------------------- helpers
    def iso(self, seconds: int) -> str:
        return self.days[seconds // _DAY - self.first_day] + self.tod[seconds % _DAY]

    def day(self, seconds: int) -> str:
        return self.days[seconds // _DAY - self.first_day]

    def new_id(self, seconds: int) -> str:
        # The time part is the record's creation time, so ids sort like real ones would.
        millis = seconds * 1000 + int(self.rng.random() * 1000)
        return _ulid_text(millis << 80 | self.rng.getrandbits(80))

    def owner(self) -> str:
        return self.owners[bisect_right(self.owner_weights, self.rng.random() * 100)]

    def country(self) -> _Country:
        r = self.rng.random() * self.country_weights[-1]
        return self.countries[bisect_right(self.country_weights, r)]

    def unique(self, used: set[str], value: str, alternatives: Iterable[str]) -> str:
        for candidate in (value, *alternatives):
            if candidate not in used:
                used.add(candidate)
                return candidate
        number = self.repeats.get(value, 2)
        while f"{value} ({number})" in used:
            number += 1
        self.repeats[value] = number + 1
        used.add(f"{value} ({number})")
        return f"{value} ({number})"

    def address(self, country: _Country, city: _City, record: Record) -> None:
        rng = self.rng
        record["address_line1"] = country.street.format(
            st=rng.choice(country.streets), n=rng.randint(1, 250), k=rng.randint(1, 9),
            m=rng.randint(1, 30))
        if country.code == "AE" and rng.random() < 0.6:
            record["address_line2"] = f"P.O. Box {rng.randint(1000, 99999)}"
        elif country.code in ("US", "GB") and rng.random() < 0.25:
            record["address_line2"] = f"Suite {rng.randint(100, 2400)}"
        record["address_city"] = city.name
        if city.state and city.state != city.name:
            record["address_state"] = city.state
        if city.postal is not None:
            record["address_postal_code"] = city.postal(rng)
        record["address_country"] = country.name

    # -------------------------------------------------------------- accounts
    def company(self, country: _Country, city: _City, latin: bool
                ) -> tuple[str, str, str, str]:
        """(name, core name without the legal form, ascii words for the web domain, industry)
        of a new company in `city`."""
        rng = self.rng
        for attempt in range(12):
            surname, surname2 = rng.choice(country.last_m), rng.choice(country.last_m)
            word = rng.choice(country.words)
            brand = rng.choice(country.brands) if country.brands else surname
            core_tpl = rng.choice(country.cores)
            values = {"s": surname, "s2": surname2, "w": word, "b": brand,
                      "p": (city.name, city.roman), "f": rng.choice(country.first_m)}
            spaced = core_tpl.replace("}{", "} {")
            roman = spaced.format(**{k: v[1] for k, v in values.items()})
            if latin:  # e.g. "Al Fares Trading LLC" beside "الفارس للتجارة ذ.م.م"
                core = spaced.format(**{k: v[1].title() for k, v in values.items()})
            else:
                core = core_tpl.format(**{k: v[0] for k, v in values.items()})
            town = rng.choice(country.cities)
            if attempt >= 4 and town.name not in core:  # with a town: "Müller Bau Köln GmbH"
                core, roman = f"{core} {town.name}", f"{roman} {town.roman}"
            name = self.legal_name(country, core, latin)
            if name not in self.used_names:
                break
        industry = word[2] if "{w}" in core_tpl else rng.choice(_INDUSTRIES)
        return self.unique(self.used_names, name, ()), core, _ascii_words(roman), industry

    def legal_name(self, country: _Country, core: str, latin: bool) -> str:
        native, roman = self.rng.choice(country.suffixes)
        fmt = self.rng.choice(country.formats)
        if latin:
            return fmt.replace("}{", "} {").format(
                core=core, x=roman.upper() if len(roman) <= 4 else roman.title())
        return fmt.format(core=core, x=native)

    def domain(self, words: str, country: _Country) -> str:
        base = words.replace(" ", "-")[:40].strip("-") or "company"
        tld = country.tld if self.rng.random() < 0.75 else "com"
        candidate = f"{base}.{tld}"
        if candidate in self.used_domains:
            candidate = f"{base}-{country.code.lower()}.{tld}"
        number = 2
        while candidate in self.used_domains:
            candidate = f"{base}{number}.{tld}"
            number += 1
        self.used_domains.add(candidate)
        return candidate

    def accounts(self, count: int, key_count: int) -> None:
        rng = self.rng
        now = self.now
        relationships = list(_RELATIONSHIP_WEIGHTS)
        rel_weights = list(accumulate(_RELATIONSHIP_WEIGHTS.values()))
        self.acc_ids: list[str] = []
        self.acc: list[Record] = []
        self.acc_created: list[int] = []
        self.acc_country: list[_Country] = []
        self.acc_city: list[_City] = []
        self.acc_domain: list[str] = []
        self.acc_weight: list[float] = []
        self.acc_contacts: list[list[int]] = []
        self.key_accounts: list[int] = []
        # Group structure: the parent of each account (an index) decided before any record, so a
        # parent always exists first and no cycle can form.
        parents: list[int | None] = []
        while len(parents) < count:
            left = count - len(parents)
            if left >= 3 and rng.random() < 0.06:
                root = len(parents)
                parents.append(None)
                for _ in range(min(left - 1, rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 8)))):
                    child = len(parents)
                    parents.append(root)
                    if rng.random() < 0.3 and len(parents) < count:
                        for _ in range(min(count - len(parents), rng.randint(1, 3))):
                            parents.append(child)
            else:
                parents.append(None)
        self.acc_core: list[str] = []  # the name without the legal form
        self.acc_core_latin: list[str] = []  # the same in Latin letters
        self.acc_latin: list[bool] = []
        relationship_cycle = iter(relationships)  # every value appears at least once
        for index, parent in enumerate(parents):
            if parent is None:
                country = self.country()
            elif self.acc[parent].get("parent_account_id") or rng.random() < 0.75:
                country = self.acc_country[parent]  # divisions stay home, some firms go abroad
            else:
                country = self.country()
            city = rng.choice(country.cities)
            domain = None
            if parent is None:
                latin = rng.random() < country.latin
                name, core, words, industry = self.company(country, city, latin)
                core_latin = core if latin or not country.latin else words.title()
            else:
                # "Müller Logistik Hamburg GmbH", "Müller Logistik Poland Sp. z o.o.",
                # "Müller Logistik Hamburg Services GmbH"; abroad in Latin letters:
                # "Towa Seisakusho Germany GmbH".
                division = rng.choice(_DIVISIONS)
                home = country is self.acc_country[parent]
                latin = self.acc_latin[parent] if home else country.latin > 0
                parent_core = self.acc_core[parent] if home else self.acc_core_latin[parent]
                if self.acc[parent].get("parent_account_id"):
                    place, place_roman = division, division
                elif home:
                    place, place_roman = city.name, city.roman
                else:
                    place, place_roman = country.name, country.name
                core = f"{parent_core} {place}"
                core_latin = (f"{self.acc_core_latin[parent]} "
                              f"{place_roman.title() if home else place}")
                name = self.unique(self.used_names, self.legal_name(country, core, latin),
                                   (self.legal_name(country, f"{core} {other}", latin)
                                    for other in rng.sample(_DIVISIONS, 3) if other != place))
                parent_domain = self.acc_domain[parent]
                if home and rng.random() < 0.6:
                    domain = parent_domain  # one group, one web site
                words = _ascii_words(f"{parent_domain.split('.')[0]} {place_roman}")
                industry = self.acc[parent].get("industry") or rng.choice(_INDUSTRIES)
            is_key = index >= 5 and len(self.key_accounts) < key_count and parent is None
            if parent is not None:
                created = self.acc_created[parent] + int(rng.random() * 400 * _DAY)
                created = min(created, now - 20 * _DAY)
            elif is_key or rng.random() < 0.7:
                created = now - 2 * _YEAR - 3 * _DAY - int(rng.random() * 4 * _YEAR)
            else:
                created = now - 20 * _DAY - int(rng.random() * (2 * _YEAR - 20 * _DAY))
            if is_key:
                relationship = Relationship.CUSTOMER
            else:
                relationship = next(relationship_cycle, None) or relationships[
                    bisect_right(rel_weights, rng.random() * rel_weights[-1])]
            domain = domain or self.domain(words, country)
            owner = self.owner() if parent is None else self.acc[parent]["owner"]
            stamp = self.iso(created)
            record: Record = {"id": self.new_id(created), "name": name}
            if rng.random() < 0.7:
                record["account_number"] = f"ACC-{100000 + index:06d}"
            record["relationship"] = relationship.value
            record["industry"] = industry
            if rng.random() < 0.92:
                record["phone"] = city.phone(rng)
            if rng.random() < 0.8:
                record["email"] = f"{rng.choice(('info', 'contact', 'sales', 'office'))}@{domain}"
            if rng.random() < 0.85:
                record["website"] = f"{rng.choice(('https://www.', 'www.', 'https://'))}{domain}"
            if rng.random() < 0.9:
                self.address(country, city, record)
            else:
                record["address_country"] = country.name
            if parent is not None:
                record["parent_account_id"] = self.acc_ids[parent]
            if rng.random() < 0.25:
                record["description"] = rng.choice(self.account_notes)
            record["owner"] = owner
            record["status"] = "inactive" if rng.random() < 0.06 and not is_key else "active"
            record.update(created_at=stamp, created_by=owner, modified_at=stamp,
                          modified_by=owner, version=1)
            weight = rng.lognormvariate(0, 1)
            if relationship == Relationship.PROSPECT:
                weight *= 0.5
            if record["status"] == "inactive":
                weight *= 0.2
            if is_key:
                self.key_accounts.append(index)
            self.acc_ids.append(record["id"])
            self.acc_core.append(core)
            self.acc_core_latin.append(core_latin)
            self.acc_latin.append(latin)
            self.acc.append(record)
            self.acc_created.append(created)
            self.acc_country.append(country)
            self.acc_city.append(city)
            self.acc_domain.append(domain)
            self.acc_weight.append(weight)
            self.acc_contacts.append([])

    # -------------------------------------------------------------- contacts
    def person(self, country: _Country) -> tuple[str, str, str, str]:
        """(first name, last name, ascii first, ascii last)."""
        rng = self.rng
        female = rng.random() < 0.5
        first = rng.choice(country.first_f if female else country.first_m)
        at = int(rng.random() * len(country.last_m))
        last = (country.last_f if female else country.last_m)[at]
        if rng.random() < country.latin:  # e.g. "Wei Zhang" written in Latin letters
            return first[1].title(), last[1].title(), first[1], last[1]
        return first[0], last[0], first[1], last[1]

    def email(self, first: str, last: str, domain: str, personal: bool) -> str:
        rng = self.rng
        first, last = first.replace(" ", ""), last.replace(" ", "")
        style = rng.random()
        if personal:
            local = f"{first}.{last}" if style < 0.5 else f"{first}{last}{rng.randint(1, 99)}"
        elif style < 0.6:
            local = f"{first}.{last}"
        elif style < 0.8:
            local = f"{first[:1]}{last}"
        elif style < 0.9:
            local = f"{first}"
        else:
            local = f"{last}.{first}"
        address = f"{local}@{domain}"
        while address in self.used_emails:
            address = f"{local}{rng.randint(2, 9999 if personal else 99)}@{domain}"
        self.used_emails.add(address)
        return address

    def contacts(self, count: int) -> None:
        rng = self.rng
        now = self.now
        n_accounts = len(self.acc)
        b2b = round(count * (1 - _B2C_SHARE))
        # Key accounts have many people: about 2% of the B2B contacts each, at most 80.
        others = sum(self.acc_weight)
        share = min(80, 0.02 * b2b) / max(b2b, 1)
        for key in self.key_accounts:
            self.acc_weight[key] = share * others / max(1 - len(self.key_accounts) * share, 0.1)
        cum = list(accumulate(self.acc_weight))
        employer = [bisect_right(cum, rng.random() * cum[-1]) for _ in range(b2b)]
        employer += [-1] * (count - b2b)
        rng.shuffle(employer)
        self.con_ids: list[str] = []
        self.con: list[Record] = []
        self.con_created: list[int] = []
        self.con_account: list[int] = employer
        self.con_weight: list[float] = []
        self.con_country: list[_Country] = []
        for index, account in enumerate(employer):
            if account >= 0:
                acc = self.acc[account]
                country = self.acc_country[account] if rng.random() < 0.85 else self.country()
                span = max(now - _DAY - self.acc_created[account], 3600)
                created = self.acc_created[account] + int(rng.random() ** 2 * span)
                owner = acc["owner"] if rng.random() < 0.8 else self.owner()
            else:
                country = self.country()
                created = now - _DAY - int(rng.random() * 4 * _YEAR)
                owner = self.owner()
            first, last, first_ascii, last_ascii = self.person(country)
            stamp = self.iso(created)
            record: Record = {"id": self.new_id(created), "first_name": first,
                              "last_name": last}
            if account >= 0:
                record["job_title"] = rng.choice(country.titles)
                record["account_id"] = self.acc_ids[account]
                if rng.random() < 0.93:
                    record["email"] = self.email(first_ascii, last_ascii,
                                                 self.acc_domain[account], False)
                phone = acc.get("phone")
                if phone and rng.random() < 0.4:
                    record["phone"] = f"{phone} ext. {rng.randint(100, 999)}"
                elif rng.random() < 0.5:
                    record["phone"] = self.acc_city[account].phone(rng)
                if rng.random() < 0.65:
                    record["mobile"] = rng.choice(country.cities).mobile(rng)
                if rng.random() < 0.3:  # works away from the head office
                    office = self.acc_country[account]
                    record["address_city"] = rng.choice(office.cities).name
                    record["address_country"] = office.name
                self.acc_contacts[account].append(index)
            else:
                city = rng.choice(country.cities)
                if rng.random() < 0.85:
                    record["email"] = self.email(first_ascii, last_ascii,
                                                 rng.choice(country.personal), True)
                if rng.random() < 0.9:
                    record["mobile"] = city.mobile(rng)
                if rng.random() < 0.25:
                    record["phone"] = city.phone(rng)
                self.address(country, city, record)
            if rng.random() < 0.08:
                record["description"] = rng.choice(_CONTACT_NOTES)
            record["owner"] = owner
            record["status"] = "inactive" if rng.random() < 0.07 else "active"
            record.update(created_at=stamp, created_by=owner, modified_at=stamp,
                          modified_by=owner, version=1)
            self.con_ids.append(record["id"])
            self.con.append(record)
            self.con_created.append(created)
            self.con_country.append(country)
            weight = rng.lognormvariate(0, 0.8)
            if record["status"] == "inactive":
                weight *= 0.2
            self.con_weight.append(weight)
        # Primary contacts: one of the account's own people, for most accounts that have any.
        for account in range(n_accounts):
            people = self.acc_contacts[account]
            if people and rng.random() < 0.75:
                self.acc[account]["primary_contact_id"] = self.con_ids[rng.choice(people)]

    # -------------------------------------------------------------- activities
    def activities(self, count: int, key_activities: int) -> list[Record]:
        rng = self.rng
        rand = rng.random
        getrandbits = rng.getrandbits
        now = self.now
        history_start = now - _HISTORY
        days, tod, first_day = self.days, self.tod, self.first_day
        iso, day = self.iso, self.day
        pick_owner = self.owner
        owners = self.owners
        owner_emails = self.owner_emails
        subjects = {t.value: (pool, len(pool)) for t, pool in self.subjects.items()}
        descriptions = _DESCRIPTIONS
        n_desc = len(descriptions)
        types = [t.value for t, _ in _TYPE_WEIGHTS]
        type_cum = list(accumulate(w for _, w in _TYPE_WEIGHTS))
        type_total = type_cum[-1]
        priorities = (Priority.LOW.value, Priority.NORMAL.value, Priority.NORMAL.value,
                      Priority.NORMAL.value, Priority.HIGH.value)
        incoming, outgoing = Direction.INCOMING.value, Direction.OUTGOING.value
        # What an activity needs from the record it is regarding, looked up once per record:
        # (regarding type, id, earliest moment, time zone, owner, email, phone, first name,
        # the account's people as (email, phone, first name)).
        people_of = [(c.get("email"), c.get("mobile") or c.get("phone"), c.get("first_name"))
                     for c in self.con]
        contact_info = [
            ("contact", c["id"], max(self.con_created[i] + 60, history_start),
             self.con_country[i].tz, c["owner"], *people_of[i], None)
            for i, c in enumerate(self.con)]
        account_info = [
            ("account", a["id"], max(self.acc_created[i] + 60, history_start),
             self.acc_country[i].tz, a["owner"], a.get("email"), a.get("phone"), None,
             [people_of[p] for p in self.acc_contacts[i]])
            for i, a in enumerate(self.acc)]
        weights = list(self.acc_weight)
        for key in self.key_accounts:  # their share is given below, not drawn
            weights[key] = 0.5
        acc_cum = list(accumulate(weights))
        con_cum = list(accumulate(self.con_weight))
        acc_total, con_total = acc_cum[-1], con_cum[-1]
        # Key accounts first, then the weighted rest.
        targets: list[tuple[Any, ...]] = []
        for key in self.key_accounts:
            targets += [account_info[key]] * max(0, key_activities + rng.randint(-30, 90))
        targets = targets[: max(0, count - 8)]
        while len(targets) < count:
            if rand() < 0.45:
                targets.append(account_info[bisect_right(acc_cum, rand() * acc_total)])
            else:
                targets.append(contact_info[bisect_right(con_cum, rand() * con_total)])
        out: list[Record] = []
        append = out.append
        specials = self._today_specials(count)
        for number, target in enumerate(targets):
            (regarding_type, regarding_id, lo, tz, target_owner, email, phone, first,
             people) = target
            if people:  # an account: talk to one of its people
                person_email, person_phone, first = people[int(rand() * len(people))]
                email = person_email or email
                phone = person_phone or phone
            kind = types[bisect_right(type_cum, rand() * type_total)]
            owner = target_owner if rand() < 0.7 else pick_owner()
            planned = kind == "task" or kind == "appointment"
            hi = now + _AHEAD if planned else now - 60
            special = specials.get(number)
            if special is not None:
                kind, when, _date_only = special
                owner, planned = owners[0], True
                lo = min(lo, now - _DAY)
            else:
                when = lo + int(rand() * max(hi - lo, 60))
                # Business days and hours (country local time), mostly.
                weekday = (when // _DAY + 3) % 7
                if weekday >= 5 and rand() < 0.85:
                    when += (7 - weekday) * _DAY if when + 2 * _DAY < hi else -(weekday - 4) * _DAY
                local_hour = 8 + int(rand() * 10)
                when = (when // _DAY) * _DAY + (local_hour - tz) * 3600 + int(rand() * 3600)
                when = min(max(when, lo), hi)
            pool, pool_size = subjects[kind]
            record: Record = {"id": "", "type": kind}
            if kind != "note" or rand() < 0.6:
                subject = pool[int(rand() * pool_size)]
                if kind == "phone_call" and first and rand() < 0.3:
                    subject = f"Call with {first}"
                record["subject"] = subject
            if kind == "note" or rand() < 0.3:
                record["description"] = descriptions[int(rand() * n_desc)]
            record["regarding_type"] = regarding_type
            record["regarding_id"] = regarding_id
            if kind == "task":
                if when > now:
                    status = "open"
                    created = max(lo, now - int(rand() * 21 * _DAY))
                else:
                    created = max(lo, when - int(rand() * 14 * _DAY))
                    r = rand()
                    open_share = 0.3 if now - when < 60 * _DAY else 0.04
                    status = "open" if r < open_share or special is not None else (
                        "canceled" if r < open_share + 0.08 else "completed")
                record["status"] = status
                record["priority"] = priorities[int(rand() * 5)]
                if special is not None and special[2]:
                    record["due_at"] = special[2]
                elif rand() < 0.3:
                    record["due_at"] = day(when + tz * 3600)
                elif rand() < 0.97:
                    record["due_at"] = iso(when - when % 900)
                if status == "completed":
                    done = created + int(rand() * (min(now, when + 5 * _DAY) - created))
                    record["completed_at"] = iso(max(done, created))
            elif kind == "appointment":
                start = when - when % 900
                created = max(lo, min(start, now) - int(rand() * 30 * _DAY))
                if special is not None and special[2]:
                    record["start_at"] = record["end_at"] = special[2]
                    record["all_day"] = True
                    end = now + _DAY
                elif rand() < 0.1:
                    local_day = start + tz * 3600
                    record["start_at"] = day(local_day)
                    length = _DAY * (0 if rand() < 0.7 else rng.randint(1, 2))
                    record["end_at"] = day(local_day + length)
                    record["all_day"] = True
                    end = start + length + 10 * 3600
                else:
                    end = start + (1800, 3600, 3600, 5400, 7200)[int(rand() * 5)]
                    record["start_at"] = iso(start)
                    record["end_at"] = iso(end)
                    if rand() < 0.7:
                        record["location"] = _LOCATIONS[int(rand() * len(_LOCATIONS))]
                if end > now:
                    status = "canceled" if rand() < 0.04 and special is None else "open"
                else:
                    r = rand()
                    open_share = 0.15 if now - end < 30 * _DAY else 0.02
                    status = "open" if r < open_share else (
                        "canceled" if r < open_share + 0.1 else "completed")
                record["status"] = status
                record["priority"] = "high" if rand() < 0.1 else "normal"
                if status == "completed":
                    record["completed_at"] = iso(min(max(end, created), now))
            else:
                created = when
                record["status"] = "completed"
                if kind != "note":
                    record["priority"] = "high" if rand() < 0.05 else "normal"
                    direction = incoming if rand() < 0.4 else outgoing
                    record["direction"] = direction
                    if kind == "phone_call":
                        if phone:
                            record["phone_number"] = phone
                    else:
                        mine = owner_emails[owner]
                        if direction == outgoing:
                            record["email_from"] = mine
                            if email:
                                record["email_to"] = email
                        else:
                            if email:
                                record["email_from"] = email
                            record["email_to"] = mine
                record["completed_at"] = iso(created)
            created = min(created, now)
            stamp = days[created // _DAY - first_day] + tod[created % _DAY]
            record["owner"] = owner
            # The id's time is the creation time, to the millisecond, as a real one would be.
            record["id"] = _ulid_text((created * 1000 + int(rand() * 1000)) << 80
                                      | getrandbits(80))
            record["created_at"] = stamp
            record["created_by"] = owner
            record["modified_at"] = stamp
            record["modified_by"] = owner
            record["version"] = 1
            append(record)
        return out

    def _today_specials(self, count: int) -> dict[int, tuple[str, int, str | None]]:
        """A few of the user's own plans for today, so the agenda is never empty on a demo.

        Maps activity number -> (type, moment, date-only value or None)."""
        if count < 50:
            return {}
        local = self.local_now
        today = local.date().isoformat()
        at = local.replace(hour=0, minute=0, second=0, microsecond=0)

        def moment(hour: int) -> int:
            return int((at + timedelta(hours=hour)).timestamp())

        start = count - 8  # after the key accounts' share
        return {start: ("task", moment(10), None), start + 1: ("task", moment(16), today),
                start + 2: ("appointment", moment(14), None),
                start + 3: ("appointment", moment(9), today),
                start + 4: ("task", moment(17) - _DAY, None)}


def generate(size: str = "S", seed: int = 0, now: datetime | None = None,
             user: str = "demo") -> dict[str, dict[str, Record]]:
    """Demo records for `size` ("S", "M" or "L"): {"accounts": {id: record}, "contacts": ...,
    "activities": ...}, complete as stored. The same size, seed, `now` and user give the same
    data; `now` defaults to the current time (activities are placed around it)."""
    key = size.upper()
    if key not in SIZES:
        raise ValueError(f"unknown demo size {size!r}: choose one of {', '.join(SIZES)}")
    n_accounts, n_contacts, n_activities = SIZES[key]
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    if moment.tzinfo is None:
        moment = moment.astimezone()
    key_count, key_activities = _KEY_ACCOUNTS[key]
    # Millions of new dicts would make the cyclic collector rescan them over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        generator = _Generator(random.Random(seed), moment, user)
        generator.accounts(n_accounts, key_count)
        generator.contacts(n_contacts)
        activities = generator.activities(n_activities, key_activities)
    finally:
        if collecting:
            gc.enable()
    return {
        ACCOUNTS: {r["id"]: r for r in generator.acc},
        CONTACTS: {r["id"]: r for r in generator.con},
        ACTIVITIES: {r["id"]: r for r in activities},
    }


def fill(crm: CRM, size: str = "S", seed: int = 0, *, now: datetime | None = None
         ) -> dict[str, int]:
    """Replace everything in `crm` with demo data; returns the count per table."""
    tables = generate(size, seed, now=now, user=crm.user)
    crm.replace_all(tables)
    return {table: len(records) for table, records in tables.items()}
