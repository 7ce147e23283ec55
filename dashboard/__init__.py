"""The hipline dashboard (Dash). Pages read through hipline's read functions, never the warehouse directly."""
