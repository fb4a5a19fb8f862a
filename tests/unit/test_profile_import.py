"""`filevault profile import-cdk-outputs`: a CDK outputs file becomes an AWS profile."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from click.testing import CliRunner

from backend.infra import outputs
from filevault_desktop import profiles
from filevault_desktop.errors import ConfigError
from filevault_desktop.paths import AppPaths

API = "https://abc123.execute-api.eu-west-1.amazonaws.com"


def _outputs(prefix: str = "FileVault", api: str = API) -> dict[str, dict[str, str]]:
    return {
        f"{prefix}-Storage": {
            outputs.UPLOAD_BUCKET: f"{prefix.lower()}-uploads-1-eu-west-1",
            outputs.REGION: "eu-west-1",
        },
        f"{prefix}-Auth": {
            outputs.USER_POOL_ID: "eu-west-1_Abc",
            outputs.USER_POOL_CLIENT_ID: "client123",
        },
        f"{prefix}-Api": {
            outputs.API_URL: api + "/",
            outputs.REGION: "eu-west-1",
            outputs.SHARE_BASE_URL: "https://d1.cloudfront.net",
        },
    }


def _paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "config", tmp_path / "state", tmp_path / "stack")


def test_outputs_become_an_aws_profile_that_load_returns(tmp_path: Path) -> None:
    source = tmp_path / "outputs.json"
    source.write_text(json.dumps(_outputs()))
    paths = _paths(tmp_path)
    written = profiles.import_cdk_outputs(paths, source, "prod")
    assert written == profiles.Profile(
        name="prod",
        kind="aws",
        api_url=API,
        region="eu-west-1",
        user_pool_id="eu-west-1_Abc",
        client_id="client123",
        upload_bucket="filevault-uploads-1-eu-west-1",
    )
    assert profiles.load(paths, "prod") == written
    assert "prod" in profiles.names(paths)


def test_missing_outputs_are_named(tmp_path: Path) -> None:
    raw = _outputs()
    del raw["FileVault-Auth"]
    with pytest.raises(ConfigError, match=f"{outputs.USER_POOL_ID}, {outputs.USER_POOL_CLIENT_ID}"):
        profiles.from_cdk_outputs(raw, "prod")


def test_two_deployments_need_a_stack_prefix(tmp_path: Path) -> None:
    raw = {**_outputs("Blue"), **_outputs("Green", api="https://green.example")}
    with pytest.raises(ConfigError, match="--stack-prefix"):
        profiles.from_cdk_outputs(raw, "prod")
    green = profiles.from_cdk_outputs(raw, "green", stack_prefix="Green")
    assert green.api_url == "https://green.example"


def test_local_and_invalid_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        profiles.save(_paths(tmp_path), profiles.from_cdk_outputs(_outputs(), "local"))
    with pytest.raises(ConfigError):
        profiles.from_cdk_outputs(_outputs(), "../evil")


def test_cli_writes_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from filevault_desktop.cli.profile_cmds import profile_group

    monkeypatch.setenv("FILEVAULT_HOME", str(tmp_path / "home"))
    source = tmp_path / "outputs.json"
    source.write_text(json.dumps(_outputs()))
    result = CliRunner().invoke(
        profile_group, ["import-cdk-outputs", str(source), "--name", "prod", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["api_url"] == API
    shown = CliRunner().invoke(profile_group, ["show", "prod", "--json"])
    assert json.loads(shown.output)["kind"] == "aws"


def test_accelerate_flag_round_trips_and_defaults_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from filevault_desktop.cli.profile_cmds import profile_group

    monkeypatch.setenv("FILEVAULT_HOME", str(tmp_path / "home"))
    source = tmp_path / "outputs.json"
    source.write_text(json.dumps(_outputs()))
    runner = CliRunner()
    args = ["import-cdk-outputs", str(source), "--json"]
    fast = runner.invoke(profile_group, [*args, "--name", "fast", "--accelerate"])
    plain = runner.invoke(profile_group, [*args, "--name", "plain"])
    assert fast.exit_code == 0 and plain.exit_code == 0, fast.output + plain.output
    assert json.loads(fast.output)["accelerate"] is True
    assert json.loads(plain.output)["accelerate"] is False
    shown = runner.invoke(profile_group, ["show", "fast", "--json"])
    assert json.loads(shown.output)["accelerate"] is True
    paths = AppPaths.from_env()
    assert profiles.load(paths, "fast").accelerate is True
    assert profiles.load(paths, "plain").accelerate is False
    # Profiles written before the flag existed load with it off.
    old = profiles.load(paths, "plain").to_dict()
    del old["accelerate"]
    assert profiles.Profile.from_dict(old).accelerate is False


def test_the_api_client_sends_the_accelerate_header_only_when_asked() -> None:
    import requests

    from backend import naming
    from filevault_desktop.api.client import ACCELERATE_HEADER, ApiClient

    assert ACCELERATE_HEADER.lower() == naming.ACCELERATE_HEADER
    response = requests.Response()
    response.status_code = 200
    sent: list[dict[str, str]] = []
    for accelerate in (True, False):
        http = MagicMock()
        http.request.return_value = response
        client = ApiClient("https://api.example", lambda: "t", http=http, accelerate=accelerate)
        client.request("GET", "/me")
        client.request("GET", "/s/x", auth=False)
        sent += [call.kwargs["headers"] for call in http.request.call_args_list]
    assert [h.get(ACCELERATE_HEADER) for h in sent] == ["1", "1", None, None]
    assert sent[0]["Authorization"] == "Bearer t"


def test_the_service_passes_the_profile_flag_to_its_api_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from filevault_desktop.api.client import ACCELERATE_HEADER
    from filevault_desktop.service import FileVaultService

    monkeypatch.setenv("FILEVAULT_HOME", str(tmp_path / "home"))
    paths = AppPaths.from_env()
    profiles.save(paths, profiles.from_cdk_outputs(_outputs(), "fast", accelerate=True))
    service = FileVaultService(
        paths, "fast", token_store=lambda p: MagicMock(), authenticator=lambda p: MagicMock()
    )
    assert service.api._extra_headers == {ACCELERATE_HEADER: "1"}
