"""The processes dsar runs as, one command each: `dsar web` (gunicorn with the app),
`dsar worker` (RQ jobs) and `dsar scheduler` (the periodic jobs, one at a time per Redis).

Each runs on any machine pointed at the same database and Redis and logs to standard output;
`dsar run` starts them all on one machine.
"""
