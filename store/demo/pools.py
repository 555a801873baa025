"""The pools the demo generator draws from, and the small builders that unpack them.

Industries, relationship and activity-type weights, job titles, subjects, descriptions and notes,
and one compact spec per country (names in their own script with a romanisation, cities with
their postal codes and phone prefixes, streets, company-name patterns). `countries()` unpacks the
specs once per process; the generator in `store.demo.generator` only picks from what is built here.
Changing a pool changes the data every seed gives (the digest test in tests/store/test_demo.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from store.model import ActivityType, Relationship
from store.text import fold

INDUSTRIES = (
    "Construction",
    "Logistics",
    "Food & Beverage",
    "Retail",
    "Manufacturing",
    "Software",
    "Healthcare",
    "Hospitality",
    "Real Estate",
    "Textiles",
    "Consulting",
    "Energy",
    "Automotive",
    "Financial Services",
    "Education",
    "Media",
    "Telecommunications",
    "Agriculture",
    "Pharmaceuticals",
    "Electronics",
    "Wholesale",
)

RELATIONSHIP_WEIGHTS = {
    Relationship.CUSTOMER: 34,
    Relationship.PROSPECT: 24,
    Relationship.PARTNER: 8,
    Relationship.RESELLER: 6,
    Relationship.VENDOR: 5,
    Relationship.SUPPLIER: 6,
    Relationship.COMPETITOR: 3,
    Relationship.INVESTOR: 2,
    Relationship.CONSULTANT: 4,
    Relationship.INFLUENCER: 2,
    Relationship.PRESS: 2,
    Relationship.OTHER: 4,
}

# --------------------------------------------------------------------------- countries
# Pools are compact strings: entries split by "|"; "native/roman" gives the romanisation used for
# email addresses and web domains (Latin-script entries are folded automatically); "male~female"
# gives gendered surnames; words are "word=Industry"; cities are "city;state;postal;area code"
# where "#" is a random digit and "@" a random letter.

_COUNTRIES: dict[str, dict[str, Any]] = {
    "US": dict(
        name="United States",
        weight=12,
        tz=-5,
        tld="com",
        personal="gmail.com|yahoo.com|outlook.com|icloud.com|aol.com",
        phone="+1 ({a}) 555-01##",
        mobile="+1 ({a}) 555-01##",
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
        suffixes="Inc.|LLC|Corp.|Inc.|LLP",
        fmt="{core} {x}",
    ),
    "GB": dict(
        name="United Kingdom",
        weight=7,
        tz=0,
        tld="co.uk",
        personal="gmail.com|btinternet.com|outlook.com|yahoo.co.uk|sky.com",
        phone="+44 {a}###",
        mobile="+44 7700 900###",
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
        suffixes="Ltd|Ltd|plc|LLP",
        fmt="{core} {x}",
    ),
    "DE": dict(
        name="Germany",
        weight=10,
        tz=1,
        tld="de",
        personal="web.de|gmx.de|t-online.de|gmail.com|posteo.de",
        phone="+49 {a} #######",
        mobile="+49 17# #######",
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
        suffixes="GmbH|AG|GmbH & Co. KG|e.K.|GmbH",
        fmt="{core} {x}",
    ),
    "FR": dict(
        name="France",
        weight=8,
        tz=1,
        tld="fr",
        personal="orange.fr|free.fr|laposte.net|gmail.com|wanadoo.fr",
        phone="+33 {a} ## ## ## ##",
        mobile="+33 6 ## ## ## ##",
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
        suffixes="SARL|SAS|S.A.|EURL",
        fmt="{core} {x}",
    ),
    "ES": dict(
        name="Spain",
        weight=6,
        tz=1,
        tld="es",
        personal="gmail.com|hotmail.es|telefonica.net|yahoo.es",
        phone="+34 {a} ### ###",
        mobile="+34 6## ### ###",
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
        suffixes="S.L.|S.A.|S.L.U.",
        fmt="{core} {x}",
    ),
    "PT": dict(
        name="Portugal",
        weight=6,
        tz=0,
        tld="pt",
        personal="sapo.pt|gmail.com|hotmail.com|netcabo.pt",
        phone="+351 {a} ### ###",
        mobile="+351 9## ### ###",
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
        suffixes="Lda.|S.A.|Lda.|Unipessoal Lda.",
        fmt="{core}, {x}",
    ),
    "BR": dict(
        name="Brazil",
        weight=8,
        tz=-3,
        tld="com.br",
        personal="gmail.com|uol.com.br|bol.com.br|hotmail.com|terra.com.br",
        phone="+55 {a} 3###-####",
        mobile="+55 {a} 9####-####",
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
        suffixes="Ltda.|S.A.|Ltda.|ME",
        fmt="{core} {x}",
    ),
    "MX": dict(
        name="Mexico",
        weight=4,
        tz=-6,
        tld="com.mx",
        personal="gmail.com|hotmail.com|prodigy.net.mx|outlook.com",
        phone="+52 {a} #### ####",
        mobile="+52 {a} #### ####",
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
        suffixes="S.A. de C.V.|S. de R.L. de C.V.|S.A.P.I. de C.V.",
        fmt="{core} {x}",
    ),
    "NO": dict(
        name="Norway",
        weight=3,
        tz=1,
        tld="no",
        personal="online.no|gmail.com|hotmail.no|outlook.com",
        phone="+47 {a} ## ## ##",
        mobile="+47 9## ## ###",
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
        suffixes="AS|ASA|AS",
        fmt="{core} {x}",
    ),
    "SE": dict(
        name="Sweden",
        weight=4,
        tz=1,
        tld="se",
        personal="telia.com|gmail.com|hotmail.se|outlook.com|bredband.net",
        phone="+46 {a} ### ## ##",
        mobile="+46 7# ### ## ##",
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
        suffixes="AB|AB|HB",
        fmt="{core} {x}",
    ),
    "DK": dict(
        name="Denmark",
        weight=3,
        tz=1,
        tld="dk",
        personal="gmail.com|mail.dk|hotmail.dk|outlook.dk",
        phone="+45 {a} ## ## ##",
        mobile="+45 2# ## ## ##",
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
        suffixes="A/S|ApS|A/S",
        fmt="{core} {x}",
    ),
    "FI": dict(
        name="Finland",
        weight=2,
        tz=2,
        tld="fi",
        personal="gmail.com|elisanet.fi|kolumbus.fi|outlook.com",
        phone="+358 {a} ### ####",
        mobile="+358 4# ### ####",
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
        suffixes="Oy|Oy|Oyj|Ky",
        fmt="{core} {x}",
    ),
    "PL": dict(
        name="Poland",
        weight=5,
        tz=1,
        tld="pl",
        personal="wp.pl|onet.pl|interia.pl|o2.pl|gmail.com",
        phone="+48 {a} ### ## ##",
        mobile="+48 6## ### ###",
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
        suffixes="Sp. z o.o.|S.A.|Sp. z o.o.|Sp.k.",
        fmt="{core} {x}",
    ),
    "TR": dict(
        name="Türkiye",
        weight=3,
        tz=3,
        tld="com.tr",
        personal="gmail.com|hotmail.com|yandex.com.tr|outlook.com",
        phone="+90 {a} ### ## ##",
        mobile="+90 5## ### ## ##",
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
        suffixes="A.Ş.|Ltd. Şti.|A.Ş.",
        fmt="{core} {x}",
    ),
    "GR": dict(
        name="Greece",
        weight=3,
        tz=2,
        tld="gr",
        latin=0.2,
        personal="gmail.com|otenet.gr|yahoo.gr|hotmail.com",
        phone="+30 {a} ### ####",
        mobile="+30 69# ### ####",
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
        suffixes="Α.Ε./SA|Ε.Π.Ε./EPE|Ι.Κ.Ε./IKE",
        fmt="{core} {x}",
    ),
    "AE": dict(
        name="United Arab Emirates",
        weight=2,
        tz=4,
        tld="ae",
        latin=0.4,
        personal="gmail.com|hotmail.com|eim.ae|outlook.com",
        phone="+971 {a} ### ####",
        mobile="+971 5# ### ####",
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
        suffixes="ذ.م.م/LLC|ش.م.ع/PJSC|ذ.م.م/LLC",
        fmt="{core} {x}",
    ),
    "VN": dict(
        name="Vietnam",
        weight=3,
        tz=7,
        tld="com.vn",
        personal="gmail.com|yahoo.com.vn|outlook.com",
        phone="+84 {a} #### ####",
        mobile="+84 9# ### ## ##",
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
        suffixes="Công ty TNHH|Công ty Cổ phần|Công ty TNHH",
        fmt="{x} {core}",
    ),
    "JP": dict(
        name="Japan",
        weight=4,
        tz=9,
        tld="co.jp",
        latin=0.1,
        personal="gmail.com|yahoo.co.jp|docomo.ne.jp|icloud.com",
        phone="+81 {a}-####",
        mobile="+81 90-####-####",
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
        suffixes="株式会社/KK|有限会社/YK|株式会社/KK",
        fmt="{x}{core}|{core}{x}",
    ),
    "CN": dict(
        name="China",
        weight=4,
        tz=8,
        tld="com.cn",
        latin=0.15,
        personal="qq.com|163.com|126.com|sina.com",
        phone="+86 {a} #### ####",
        mobile="+86 13# #### ####",
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
        suffixes="有限公司/Co Ltd|股份有限公司/Co Ltd|有限公司/Co Ltd",
        fmt="{core}{x}",
    ),
}

_JOB_TITLES = (
    "CEO|CFO|CTO|COO|Managing Director|Sales Manager|Head of Purchasing"
    "|Procurement Specialist|Office Manager|Marketing Director|IT Manager"
    "|Operations Manager|Account Executive|Finance Manager|HR Business Partner"
    "|Project Manager|Logistics Coordinator|Founder|Owner|Buyer|Product Manager"
    "|Head of Customer Success|Legal Counsel|Executive Assistant"
).split("|")
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

_TOPICS = (
    "pricing",
    "the renewal",
    "delivery delays",
    "the new catalogue",
    "the Q3 forecast",
    "payment terms",
    "onboarding",
    "the pilot project",
    "the support contract",
    "a volume discount",
    "the integration",
    "training dates",
    "the tender",
    "spare parts",
    "the service level agreement",
    "the rollout plan",
    "invoicing",
)
_PRODUCTS = (
    "the ERP rollout",
    "Model X-200",
    "spare parts",
    "the maintenance contract",
    "cloud licences",
    "fleet service",
    "the packaging line",
    "the Premium plan",
    "the warehouse scanners",
    "the annual framework order",
    "consulting days",
)
_FAIRS = (
    "Web Summit",
    "Hannover Messe",
    "CeBIT",
    "Mobile World Congress",
    "Vivatech",
    "NRF",
    "Slush",
    "Expo Real",
    "SIAL Paris",
    "Canton Fair",
)
_CITIES_FOR_TRAVEL = (
    "Lisboa",
    "São Paulo",
    "München",
    "Paris",
    "Madrid",
    "Oslo",
    "Kraków",
    "Tokyo",
    "Shanghai",
    "Dubai",
    "Athens",
    "New York",
    "London",
)

SUBJECTS = {
    ActivityType.EMAIL: (
        "Re: Quote {q}",
        "Invoice {inv}",
        "Proposal for {prod}",
        "Meeting follow-up",
        "Contract renewal {year}",
        "Order confirmation PO-{q}",
        "Re: Delivery schedule",
        "Price list {year}",
        "Introduction",
        "Re: Support ticket #{inv}",
        "Payment reminder",
        "Updated specifications",
        "Re: {topic}",
        "Fwd: {topic}",
        "Question about {topic}",
    ),
    ActivityType.PHONE_CALL: (
        "Call about {topic}",
        "Follow-up call",
        "Discussed {topic}",
        "Left voicemail",
        "Intro call",
        "Quarterly check-in",
        "Called back about {topic}",
        "Support call: {topic}",
        "Reference call",
        "Quick call about {prod}",
    ),
    ActivityType.APPOINTMENT: (
        "Meeting: {topic}",
        "Product demo",
        "Quarterly business review",
        "Site visit",
        "Contract negotiation",
        "Lunch",
        "Workshop: {topic}",
        "Kick-off {prod}",
        "Booth visit at {fair}",
        "Training session",
        "Steering committee",
        "Presentation of {prod}",
    ),
    ActivityType.TASK: (
        "Send quote for {prod}",
        "Prepare proposal",
        "Follow up on invoice {inv}",
        "Call back about {topic}",
        "Update contact details",
        "Schedule demo",
        "Renew contract",
        "Check payment of invoice {inv}",
        "Send samples",
        "Book travel to {city}",
        "Prepare QBR slides",
        "Send NDA",
        "Review {topic}",
        "Chase signed order PO-{q}",
    ),
    ActivityType.NOTE: (
        "Met at {fair}",
        "Budget approved",
        "Key decision maker",
        "Prefers email",
        "Reorganisation",
        "New purchasing process",
        "Competitor offer",
        "Feedback on {prod}",
        "Expansion plans",
    ),
}
DESCRIPTIONS = (
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
CONTACT_NOTES = (
    "Prefers email.",
    "Speaks English and Portuguese.",
    "Call mornings only.",
    "Met at the trade fair.",
    "Decision maker for purchases above 50k.",
    "Assistant handles scheduling.",
    "Former customer at another company.",
    "Newsletter subscriber.",
    "Prefers phone calls.",
    "Bilingual: French/German.",
)
ACCOUNT_NOTES = (
    "Key account since {year}.",
    "Family-owned business, third generation.",
    "Framework agreement renewed every January.",
    "Pays reliably; 30 days net.",
    "Expanding into new markets next year.",
    "Met at {fair}; strong interest in {prod}.",
    "Central purchasing: orders go through headquarters.",
    "Seasonal business: most orders between March and June.",
    "Part of a tender process every two years.",
)
DIVISIONS = (
    "Services",
    "Logistics",
    "Retail",
    "Digital",
    "Components",
    "Trading",
    "Real Estate",
    "Holding",
    "Finance",
    "Technology",
)
LOCATIONS = (
    "Office",
    "Client site",
    "Zoom",
    "Microsoft Teams",
    "Google Meet",
    "Phone bridge",
    "Café Central",
    "Their headquarters",
    "Our office, room 2.14",
    "Trade fair booth",
)

TYPE_WEIGHTS = (
    (ActivityType.EMAIL, 30),
    (ActivityType.PHONE_CALL, 24),
    (ActivityType.NOTE, 14),
    (ActivityType.TASK, 19),
    (ActivityType.APPOINTMENT, 13),
)


# --------------------------------------------------------------------------- building the pools
def ascii_words(text: str) -> str:
    """`Al Mansoori` -> `al mansoori`, `Müller` -> `muller`: for emails and web domains."""
    folded = fold(text)
    kept = "".join(ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else " " for ch in folded)
    return " ".join(kept.split())


def _entry(text: str) -> tuple[str, str]:
    native, slash, roman = text.partition("/")
    if slash and native.isascii():  # "A/S" is a name, not a romanisation
        native, roman = text, ""
    words = ascii_words(roman or native)
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
        self.scale = 10**self.digits
        self.width = f"0{self.digits}d" if self.digits else ""

    def __call__(self, rng: random.Random) -> str:
        digits = format(int(rng.random() * self.scale), self.width) if self.digits else ""
        letters = "".join(rng.choices(self._LETTERS, k=self.letters)) if self.letters else ""
        return self.format(digits, letters)


@dataclass
class City:
    name: str
    roman: str
    state: str
    postal: _Pattern | None
    phone: _Pattern
    mobile: _Pattern


@dataclass
class Country:
    code: str
    name: str
    weight: int
    tz: int
    tld: str
    latin: float
    personal: list[str]
    cities: list[City]
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


def _build_country(code: str, spec: dict[str, Any]) -> Country:
    cities = []
    for item in spec["cities"].split("|"):
        city, state, postal, area = item.split(";")
        native, roman = _entry(city)
        # Area codes may carry random digits ("21#"); the number patterns take them in.
        cities.append(
            City(
                native,
                roman,
                state,
                _Pattern(postal) if postal else None,
                _Pattern(spec["phone"].replace("{a}", area)),
                _Pattern(spec["mobile"].replace("{a}", area)),
            )
        )
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
    return Country(
        code=code,
        name=spec["name"],
        weight=spec["weight"],
        tz=spec["tz"],
        tld=spec["tld"],
        latin=spec.get("latin", 0.0),
        personal=spec["personal"].split("|"),
        cities=cities,
        streets=spec["streets"].split("|"),
        street=spec["street"],
        first_m=_entries(spec["first_m"]),
        first_f=_entries(spec["first_f"]),
        last_m=last_m,
        last_f=last_f,
        words=words,
        brands=_entries(spec.get("brands", "")),
        cores=spec["cores"].split("|"),
        suffixes=_entries(spec["suffixes"]),
        formats=spec["fmt"].split("|"),
        titles=titles,
    )


_POOLS: list[Country] = []


def countries() -> list[Country]:
    if not _POOLS:
        _POOLS.extend(_build_country(code, spec) for code, spec in _COUNTRIES.items())
    return _POOLS


def subject_pool(
    rng: random.Random, templates: tuple[str, ...], year: int, size: int = 400
) -> list[str]:
    pool = []
    for _ in range(size):
        template = rng.choice(templates)
        pool.append(
            template.format(
                q=f"Q-{year - rng.randint(0, 1)}-{rng.randint(100, 999)}",
                inv=f"{rng.randint(10000, 99999)}",
                prod=rng.choice(_PRODUCTS),
                topic=rng.choice(_TOPICS),
                year=year + rng.randint(-1, 1),
                fair=rng.choice(_FAIRS),
                city=rng.choice(_CITIES_FOR_TRAVEL),
            )
        )
    return pool
