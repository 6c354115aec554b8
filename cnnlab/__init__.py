"""Learn CNNs: the course package (building, grading and exporting the course)."""
import sys as _sys

__version__ = "0.1.0"

# nbformat imports jsonschema, which imports rfc3987_syntax when it is installed (jupyter's
# dependencies bring it) and builds its Lark grammar: about 0.9 s of every cnnlab command,
# only to check the "iri" string format, which no notebook schema uses. Unless something
# imported it already, jsonschema goes without that one format check (it skips it).
_sys.modules.setdefault("rfc3987_syntax", None)
