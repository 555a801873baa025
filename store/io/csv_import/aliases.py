"""The column-name tables: which header names feed which CRM field.

Names are compared as keys (lower case, letters and digits only, store.io.common.key), so the
tables list `emailaddress1` for "E-mail Address 1" or "emailaddress1". Sources: our own field
names, Dynamics 365 logical and display names, Salesforce export names, Outlook and Google
contact CSVs, and common spreadsheet headings in several languages. Within a field, earlier
names are more specific: when two columns claim one field, the earlier name wins (mapping.py).
"""

from __future__ import annotations

import re

from store.io.common import key
from store.io.fields import ACCOUNTS, ACTIVITIES, CONTACTS

__all__ = ["ALIASES", "ALIAS_INDEX", "NOISE", "PHONE_NUMBER_COLUMN", "PHONE_TYPE_COLUMN"]


_COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "created_at": ("createdat", "createdon", "createddate", "created", "datecreated",
                   "creationdate", "createdtime", "createdate"),
    "modified_at": ("modifiedat", "modifiedon", "lastmodifieddate", "lastmodified", "modified",
                    "datemodified", "updatedat", "updatedon", "lastupdated", "updated"),
    "owner": ("owner", "ownerid", "ownername", "recordowner", "assignedto", "ownedby",
              "accountowner", "contactowner", "salesrep", "accountmanager"),
    "description": ("description", "notes", "note", "comments", "comment", "remarks", "details",
                    "memo"),
    "status_reason": ("statuscode", "statusreason"),
}

_ADDRESS_ALIASES: dict[str, tuple[str, ...]] = {
    "address_line1": ("addressline1", "address1line1", "address1street1", "billingstreet",
                      "mailingstreet", "businessstreet", "address1street", "street",
                      "streetaddress", "address", "address1", "street1", "line1",
                      "addressstreet", "streetline1"),
    "address_line2": ("addressline2", "address1line2", "address1street2", "businessstreet2",
                      "street2", "line2", "address2", "streetline2"),
    "address_city": ("addresscity", "address1city", "billingcity", "mailingcity", "businesscity",
                     "city", "town", "locality"),
    "address_state": ("addressstate", "address1stateorprovince", "address1stateprovince",
                      "address1region", "billingstate", "mailingstate", "businessstate",
                      "stateorprovince", "stateprovince", "state", "province", "region",
                      "county"),
    "address_postal_code": ("addresspostalcode", "address1postalcode", "address1zippostalcode",
                            "billingpostalcode", "mailingpostalcode", "businesspostalcode",
                            "postalcode", "zippostalcode", "zip", "zipcode", "postcode",
                            "postal", "plz"),
    "address_country": ("addresscountry", "address1country", "address1countryregion",
                        "billingcountry", "mailingcountry", "businesscountryregion",
                        "businesscountry", "country", "countryregion", "nation"),
}

_EMAIL_ALIASES = ("email", "emailaddress1", "emailaddress", "email1", "email1value",
                  "email1address", "primaryemail", "workemail", "businessemail", "mail")

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    ACCOUNTS: {
        "source_id": ("id", "accountid", "donotmodifyaccount", "sourceid", "externalid",
                      "recordid"),
        "name": ("name", "accountname", "companyname", "company", "organization",
                 "organisation", "organizationname", "business", "businessname",
                 "customername", "customer"),
        "account_number": ("accountnumber", "accountno", "accountnum", "customernumber",
                           "customerno", "customerid", "accountcode"),
        "relationship": ("relationship", "customertypecode", "relationshiptype", "type",
                         "accounttype", "customertype", "category"),
        "industry": ("industry", "industrycode", "sector"),
        "phone": ("phone", "telephone1", "mainphone", "phonenumber", "telephone",
                  "businessphone", "officephone", "workphone", "phone1value", "tel"),
        "email": _EMAIL_ALIASES,
        "website": ("website", "websiteurl", "web", "url", "homepage", "webpage",
                    "websiteaddress", "webaddress", "webpage1value", "website1value"),
        **_ADDRESS_ALIASES,
        "parent_account_id": ("parentaccountid", "parentaccount", "parentid", "parent",
                              "parentaccountname", "parentcompany"),
        "primary_contact_id": ("primarycontactid", "primarycontact", "maincontact",
                               "primarycontactname", "contact", "contactname"),
        "parent_account_name": ("parentaccountname", "parentaccountidname"),
        "primary_contact_name": ("primarycontactname", "primarycontactidname"),
        "status": ("status", "statecode"),
        **_COMMON_ALIASES,
    },
    CONTACTS: {
        "source_id": ("id", "contactid", "donotmodifycontact", "sourceid", "externalid",
                      "recordid"),
        "first_name": ("firstname", "givenname", "first", "forename", "vorname", "prenom",
                       "prénom"),
        "last_name": ("lastname", "surname", "familyname", "last", "nachname", "nom"),
        "full_name": ("fullname", "name", "contactname", "displayname", "contact"),
        "job_title": ("jobtitle", "title", "position", "role", "organizationtitle",
                      "organization1title", "function"),
        "account_id": ("accountid", "parentcustomerid", "companyname", "company", "account",
                       "accountname", "organization", "organisation", "organizationname",
                       "organization1name", "employer", "parentcustomer", "firm"),
        "account_name": ("accountname", "parentcustomeridname"),
        "email": _EMAIL_ALIASES,
        "phone": ("phone", "telephone1", "businessphone", "phonenumber", "telephone",
                  "workphone", "officephone", "directphone", "phone1value", "tel"),
        "mobile": ("mobile", "mobilephone", "cell", "cellphone", "mobilenumber", "cellular",
                   "handy", "mobiletelephone"),
        **_ADDRESS_ALIASES,
        "status": ("status", "statecode"),
        **_COMMON_ALIASES,
    },
    ACTIVITIES: {
        "source_id": ("id", "activityid", "donotmodifyactivity", "donotmodifytask",
                      "donotmodifyphonecall", "donotmodifyappointment", "donotmodifyemail",
                      "sourceid", "taskid", "eventid", "externalid", "recordid"),
        "type": ("type", "activitytypecode", "activitytype", "tasksubtype", "eventsubtype",
                 "kind"),
        "subject": ("subject", "title", "summary", "topic", "name"),
        "regarding_type": ("regardingtype", "regardingobjecttypecode", "regardingobjecttype",
                           "relatedtotype"),
        "regarding_id": ("regardingid", "regardingobjectid", "regarding", "relatedto",
                         "regardingname", "regardingobjectidname"),
        "regarding_name": ("regardingname", "regardingobjectidname"),
        "regarding_contact": ("whoid", "contact", "contactid", "contactname", "who"),
        "regarding_account": ("whatid", "account", "accountid", "accountname", "company",
                              "what"),
        "status": ("status", "statecode", "activitystatus"),
        "priority": ("priority", "prioritycode", "importance"),
        "due_at": ("dueat", "scheduledend", "due", "duedate", "activitydate", "deadline",
                   "dueon", "date"),
        "start_at": ("startat", "scheduledstart", "starttime", "startdate", "start",
                     "startdatetime", "activitydatetime", "begin"),
        "end_at": ("endat", "endtime", "enddate", "end", "enddatetime", "finish"),
        "completed_at": ("completedat", "actualend", "completeddatetime", "completedon",
                         "datecompleted", "closedon"),
        "all_day": ("allday", "isalldayevent", "alldayevent"),
        "location": ("location", "place", "where", "venue"),
        "direction": ("direction", "directioncode", "calltype"),
        "phone_number": ("phonenumber", "phone", "telephone", "number"),
        "email_from": ("emailfrom", "from", "sender", "fromaddress", "sentfrom"),
        "email_to": ("emailto", "to", "recipient", "recipients", "toaddress", "toaddresses",
                     "sentto"),
        "duration_minutes": ("durationminutes", "durationinminutes", "scheduleddurationminutes",
                             "actualdurationminutes", "duration"),
        **_COMMON_ALIASES,
    },
}

# System columns that carry nothing a user wants in a description.
NOISE = frozenset(
    {
        "donotmodifyrowchecksum", "rowchecksum", "donotmodifymodifiedon", "isdeleted",
        "systemmodstamp", "createdbyid", "lastmodifiedbyid", "lastvieweddate",
        "lastreferenceddate", "jigsaw", "jigsawcompanyid", "jigsawcontactid", "photourl",
        "masterrecordid", "cleanstatus", "versionnumber", "timezoneruleversionnumber",
        "utcconversiontimezonecode", "importsequencenumber", "overriddencreatedon",
        "owningbusinessunit", "owninguser", "owningteam", "createdonbehalfby",
        "modifiedonbehalfby", "processid", "stageid", "traversedpath", "billinglatitude",
        "billinglongitude", "billinggeocodeaccuracy", "shippinglatitude", "shippinglongitude",
        "shippinggeocodeaccuracy", "mailinglatitude", "mailinglongitude",
        "mailinggeocodeaccuracy", "otherlatitude", "otherlongitude", "othergeocodeaccuracy",
        "isarchived", "isclosed", "ishighpriority", "isrecurrence", "isreminderset",
    }
)


def _alias_index(kind: str) -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for field_name, aliases in ALIASES[kind].items():
        for rank, alias in enumerate((key(field_name), *aliases)):
            alias = key(alias)
            if alias not in index or index[alias][1] > rank:
                index[alias] = (field_name, rank)
    return index


ALIAS_INDEX = {kind: _alias_index(kind) for kind in ALIASES}


# Numbered phone columns (Google's `Phone 1 - Value` / `Phone 1 - Type`, Dynamics'
# `phone_number1.number` / `phone_number1.type`), as keys; the number pairs them.
PHONE_NUMBER_COLUMN = re.compile(
    r"(?:phone|phonenumber|telephone|tel)(\d+)(?:number|value)")
PHONE_TYPE_COLUMN = re.compile(r"(?:phone|phonenumber|telephone|tel)(\d+)(?:type|label)")
