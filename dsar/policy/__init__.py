"""The pure rules: lifecycle, deadlines, retention, rights texts, checks of what people send.

Nothing here imports Flask or SQLAlchemy, reads the clock or touches a file: every function
takes what it needs as arguments (today's date included) and is tested on plain data.
"""
