"""Who may use hipline and what they did (SPEC §5): users, roles and their rights, the audit trail.

Everything here is kept in the clinic's records beside the warehouse (`etl.records`), never in the
warehouse a load replaces. Never imports dash or flask: the pages' sign-in (dashboard.security) and
the command line (`hipline user`, `hipline audit`) both use it.
"""
