"""How long a sign-in lasts (SPEC §5): a working day, unless the clinic says otherwise
(HIPLINE_SESSION_HOURS); signing out, a new password or being disabled ends it sooner."""

SESSION_HOURS = 10.0
