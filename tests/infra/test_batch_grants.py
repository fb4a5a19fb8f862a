"""The batch routes' functions may make the batch calls the metadata store makes for them
(BatchGetItem/BatchWriteItem are IAM actions of their own, not covered by Get/PutItem)."""

from __future__ import annotations

from tests.infra.conftest import Synth, actions, functions, role_statements

BATCH = {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"}


def test_upload_and_download_batches_may_read_and_write_the_table_in_batches(
    synth: Synth,
) -> None:
    by_handler = {f["Handler"]: f for f in functions(synth, "Api").values()}
    for group in ("uploads", "files"):
        found = role_statements(synth, "Api", by_handler[f"backend.api.lambdas.{group}"])
        granted = set().union(*(actions(s) for s in found if s["Effect"] == "Allow"))
        assert granted >= BATCH, group
    # Only where they are used: the share resolver's role has no batch actions.
    public = role_statements(synth, "Api", by_handler["backend.api.lambdas.public"])
    assert not BATCH & set().union(*(actions(s) for s in public))
