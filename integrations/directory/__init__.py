"""Active Directory / LDAP: sign-in with company accounts, roles from groups, user sync.

conf.py reads RFR_LDAP_*; client.py talks LDAP; adapter.py turns entries into Person
records; backend.py signs people in through django-auth-ldap; accounts.py writes users
and roles; sync.py mirrors the directory (tasks.py and ``manage.py sync_directory``);
throttle.py and forms.py guard and explain the sign-in.
"""
