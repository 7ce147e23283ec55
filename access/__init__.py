"""Who may use hipline and what they did (docs/security.md#roles-and-what-each-may-do): users, roles and their
rights, the audit trail.

Everything here is kept in the clinic's records (`etl.records`: beside the warehouse, or a clinic network's
PostgreSQL), never in the warehouse a load replaces. Never imports dash or flask: the pages' sign-in
(dashboard.security) and the command line (`hipline user`, `hipline audit`) both use it.
"""
