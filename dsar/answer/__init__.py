"""The answer: the report built from connector records, its PDF, and the files stored for
delivery behind a signed link.
"""
