"""nbgrader's CheckCellMetadata, with the cell schema compiled once per process.

nbgrader checks every cell's nbgrader metadata with `jsonschema.validate`, which
first checks the schema itself against JSON Schema's metaschema, on every call:
26 ms a notebook of 02 here, twice per submission (sanitize and autograde), inside
the coordinator's lock. Compiled once, the same checks take 2 ms. Everything
else (schema version, grade ids, points, markdown cells) is nbgrader's own code.
"""
from __future__ import annotations

import json
import traceback
from functools import lru_cache
from pathlib import Path

import jsonschema
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError, ValidationError
from nbgrader.nbgraderformat import common
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata


@lru_cache(maxsize=None)
def _compiled(schema_version: int):
    """The validator of nbgrader's schema of one metadata version, read from the file nbgrader's
    own validators read (BaseMetadataValidator.__init__)."""
    schema = json.loads((Path(common.root) / f"v{schema_version:d}.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate does on every call
    return cls(schema)


class _CompiledSchema(BaseMetadataValidator):
    """BaseMetadataValidator.validate_cell (nbgrader 0.9.6) with the compiled validator."""

    def validate_cell(self, cell) -> None:
        if "nbgrader" not in cell.metadata:
            return
        version = cell.metadata["nbgrader"].get("schema_version", 0)
        if version < self.schema_version:
            raise SchemaTooOldError(f"Outdated schema version: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        if version > self.schema_version:
            raise SchemaTooNewError(f"Schema version is too new: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        error = jsonschema.exceptions.best_match(_compiled(self.schema_version).iter_errors(cell.metadata["nbgrader"]))
        if error is not None:
            raise error


class CompiledMetadataValidator(MetadataValidator, _CompiledSchema):
    """nbgrader's current MetadataValidator; its schema check is _CompiledSchema's (next in the MRO)."""


class CheckCellMetadataCompiled(CheckCellMetadata):
    """nbgrader's CheckCellMetadata (same checks, same error) with the schema compiled once."""

    def preprocess(self, nb, resources):
        try:
            CompiledMetadataValidator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            msg = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(msg)
            raise ValidationError(msg)
        return nb, resources
