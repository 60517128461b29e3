"""What the workers do: connector tasks fanned out and in, the answer's assembly, erasure
plans, the officer's decisions, outcome letters, retention holds, mails and the sweep.

Jobs are enqueued by their dotted name (see ``queues``), so nothing but the worker imports
``jobs``, the module of job functions whose names and arguments are a wire format.
"""
