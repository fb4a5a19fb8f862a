"""The embedded local stack: the whole backend on loopback, with no AWS account.

aws endpoint (one port)  ── SigV4 check ──┬─► file-backed S3 (data_dir/s3)
                                           └─► moto, in-process: DynamoDB, Cognito, ...
api endpoint (one port)  ── JWT check ────► the real Lambda handlers, in-process
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import boto3
from botocore.config import Config
from werkzeug.serving import BaseWSGIServer, make_server

from backend import naming
from backend.api.app import handle
from backend.config import BackendConfig
from backend.data.directory import CognitoDirectory
from backend.data.events import Events
from backend.data.metadata import MetadataStore
from backend.local.aws_front import AwsFront
from backend.local.blob_store import blob_store
from backend.local.cognito import ACCOUNT_ID, LocalCognito, generate_signing_key, public_jwks
from backend.local.dynamodb_direct import metadata_client
from backend.local.foreground import ForegroundLoad
from backend.local.gateway import ApiGateway, JwtAuthorizer
from backend.local.inprocess import InProcess
from backend.local.moto_dynamodb import install as install_moto_fixes
from backend.local.moto_dynamodb_speedups import install as install_dynamodb_speedups
from backend.local.moto_speedups import install as install_moto_speedups
from backend.local.persistence import Snapshotter, StackIdentity, StackState, read_json
from backend.local.s3 import ContinueOnReadHandler, ObjectStore, S3App
from backend.local.schedules import ScheduledJobs
from backend.local.sigv4 import SigV4Verifier
from backend.local.table_journal import TableJournal
from backend.local.workflows import (
    LambdaFunctions,
    LocalObjectLambda,
    LocalWorkflows,
    WorkflowNames,
    event_handler,
    install_moto_stepfunctions,
    object_lambda_client,
)
from backend.logic.context import Services
from backend.workflows import definitions, runtime
from backend.workflows.steps import watermark
from filevault_desktop.persist import write_atomic

log = logging.getLogger("filevault.local")
LOOPBACK = "127.0.0.1"
DEFAULT_API_PORT = 8765
MiB = 1024**2
APP_CLIENT_NAME = "filevault-desktop"
PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": False,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": False,
}


@dataclass(frozen=True)
class LocalProfile:
    """What a client needs to use this stack; written to ``<data_dir>/profile.json``."""

    name: str
    kind: str
    api_url: str
    region: str
    user_pool_id: str
    client_id: str
    aws_endpoint_url: str
    upload_bucket: str
    epoch: str


class _QuietHandler(ContinueOnReadHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path, code)


class _LateApp:
    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


def _serve(host: str, port: int, app: Any, name: str) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return server, thread


class LocalStack:
    def __init__(
        self,
        data_dir: Path,
        *,
        api_port: int = DEFAULT_API_PORT,
        aws_port: int | None = None,
        region: str = "us-east-1",
        min_part_size: int = 5 * MiB,
        default_quota: int = 100 * 1024**3,
        single_put_max: int = 16 * MiB,
        fast_workflows: bool = False,
        share_reminder_lead_s: int = 24 * 3600,
        job_interval_s: float | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.api_port = api_port
        self.aws_port = aws_port if aws_port is not None else (api_port + 1 if api_port else 0)
        self.region = region
        self.min_part_size = min_part_size
        self.default_quota = default_quota
        self.single_put_max = max(single_put_max, 0)
        # Retries 1 s apart (the ASL minimum) instead of backing off; for tests and demos.
        self.fast_workflows = fast_workflows
        self.share_reminder_lead_s = share_reminder_lead_s
        # How often the scheduled jobs (the trash purge) run; None: their own interval.
        self.job_interval_s = job_interval_s
        self._schedules: ScheduledJobs | None = None
        self._workflows: LocalWorkflows | None = None
        self._state = StackState(data_dir)
        self._servers: list[BaseWSGIServer] = []
        self._snapshotter: Snapshotter | None = None
        self._cognito_saved = b""
        self.profile: LocalProfile | None = None

    # ----- lifecycle -----
    def start(self) -> LocalProfile:
        try:
            return self._start()
        except BaseException:
            self.stop()  # release the ports and the data dir of a half-started stack
            raise

    def _start(self) -> LocalProfile:
        # Pool and client ids derive from their names, so they stay the same across restarts.
        os.environ["MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY"] = "HASH"
        os.environ["MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY"] = "HASH"
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        install_moto_fixes()
        install_moto_speedups()
        install_dynamodb_speedups()

        identity = self._state.open(self.region)
        jwk = self._signing_key()
        jwks = public_jwks(jwk)
        cognito = LocalCognito(self.region, jwk)
        table = TableJournal(
            ACCOUNT_ID, self.region, self._names(identity)["table"], self._state.state_dir
        )
        # A rebuild of the table's base costs O(table); the journal's growth triggers it too.
        snapshotter = Snapshotter(
            lambda full: self._snapshot(table, cognito, full), full_every_s=600.0
        )
        objects = ObjectStore(self.data_dir / "s3", min_part_size=self.min_part_size)
        lambdas = LambdaFunctions(self.region)
        s3_app = S3App(objects)
        front = AwsFront(
            s3_app=s3_app,
            moto_app=DomainDispatcherApplication(create_backend_app),
            verifier=SigV4Verifier({identity.access_key: identity.secret_key}),
            cognito=cognito,
            jwks=jwks,
            on_mutation=lambda: self._on_mutation(snapshotter),
            lambda_invoke=lambdas,
        )
        # Requests arriving on the sockets are the user's; the workflows yield to them.
        load = ForegroundLoad()
        aws_server, _ = _serve(LOOPBACK, self.aws_port, load.measured(front), "aws-endpoint")
        self._servers.append(aws_server)
        aws_url = self._aws_url = f"http://{LOOPBACK}:{aws_server.server_port}"
        # The stack's own clients (provisioning, the API handlers, workflow steps, moto's Task
        # states) reach the endpoint's app without a socket; the requests are the same, signed.
        internal = InProcess(front, aws_url)
        session = internal.attach_session(self._session(identity))
        names = self._names(identity)
        install_moto_stepfunctions(aws_url, identity.access_key, identity.secret_key, internal)
        flow_names = WorkflowNames(
            prefix=f"filevault-{identity.stack_id}",
            region=self.region,
            table=names["table"],
            upload_bucket=names["uploads"],
            processed_bucket=names["processed"],
            analytics_bucket=names["analytics"],
        )
        self._provision_storage(session, aws_url, names, table)
        pool_id, client_id = self._provision_cognito(session, aws_url, identity, cognito)
        # The gateway needs its own URL (share links), known only once the port is bound.
        late = _LateApp()
        api_server = make_server(
            LOOPBACK,
            self.api_port,
            load.measured(late),
            threaded=True,
            request_handler=_QuietHandler,
        )
        api_url = f"http://{LOOPBACK}:{api_server.server_port}"
        config = BackendConfig(
            region=self.region,
            table_name=names["table"],
            upload_bucket=names["uploads"],
            processed_bucket=names["processed"],
            public_base_url=api_url,
            epoch=identity.epoch,
            aws_endpoint_url=aws_url,
            default_quota_bytes=self.default_quota,
            min_part_size=self.min_part_size,
            single_put_max=self.single_put_max,
            notifications_topic_arn=flow_names.topic_arn,
            analytics_bucket=flow_names.analytics_bucket,
            share_lifecycle_arn=flow_names.state_machine_arn(definitions.SHARE_LIFECYCLE),
            share_reminder_lead_s=self.share_reminder_lead_s,
            watermark_access_point=flow_names.watermark_alias,
            user_pool_id=pool_id,
        )
        services = self._services(
            session, config, objects, on_write=lambda: self._on_mutation(snapshotter)
        )
        # Workflow steps and event handlers run in this process, on the same services.
        runtime.install(services)
        watermark.configure(object_lambda_client(session, aws_url))
        front.object_lambda = LocalObjectLambda(
            flow_names.watermark_alias,
            names["uploads"],
            session.client("s3", endpoint_url=aws_url, config=_s3_config()),
            event_handler("Watermark"),
        )
        workflows = LocalWorkflows(
            session=session,
            aws_url=aws_url,
            names=flow_names,
            lambdas=lambdas,
            fast=self.fast_workflows,
            load=load,
        )
        workflows.provision()
        objects.on_object_created = workflows.on_object_created
        workflows.start()
        self._workflows = workflows
        self._schedules = ScheduledJobs.start(interval_s=self.job_interval_s)
        issuer = f"https://cognito-idp.{self.region}.amazonaws.com/{pool_id}"
        late.app = ApiGateway(
            lambda event: handle(services, event, bytes_as_is=True),
            JwtAuthorizer(jwks, issuer=issuer, audience=client_id),
        )
        threading.Thread(target=api_server.serve_forever, name="api-gateway", daemon=True).start()
        self._servers.insert(0, api_server)
        snapshotter.start()
        self._snapshotter = snapshotter
        self.profile = LocalProfile(
            name="local",
            kind="local",
            api_url=api_url,
            region=self.region,
            user_pool_id=pool_id,
            client_id=client_id,
            aws_endpoint_url=aws_url,
            upload_bucket=names["uploads"],
            epoch=identity.epoch,
        )
        write_atomic(
            self.data_dir / "profile.json",
            json.dumps(asdict(self.profile), indent=2).encode(),
            mode=0o644,
        )
        return self.profile

    def _on_mutation(self, snapshotter: Snapshotter) -> None:
        snapshotter.mark_dirty()
        if self._workflows is not None:
            self._workflows.on_table_write()

    def stop(self) -> None:
        api = self._servers[:1]
        for server in api:
            server.shutdown()
        if self._schedules is not None:
            self._schedules.stop()
            self._schedules = None
        if self._workflows is not None:
            self._workflows.stop()
            self._workflows = None
        if self._snapshotter is not None:
            self._snapshotter.stop()
        for server in self._servers[1:]:
            server.shutdown()
        for server in self._servers:
            server.server_close()
        self._servers.clear()
        self._state.close_cleanly()

    # ----- pieces -----
    def _signing_key(self) -> dict[str, Any]:
        path = self.data_dir / "secrets" / "jwt-signing-key.json"
        existing = read_json(path)
        if existing is not None:
            return dict(existing)
        key = generate_signing_key()
        write_atomic(path, json.dumps(key).encode(), mode=0o600)
        return key

    @staticmethod
    def _names(identity: StackIdentity) -> dict[str, str]:
        prefix = f"filevault-{identity.stack_id}"
        return {
            "table": f"{prefix}-metadata",
            "uploads": f"{prefix}-uploads",
            "processed": f"{prefix}-processed",
            "analytics": f"{prefix}-analytics",
            "pool": prefix,
        }

    def _session(self, identity: StackIdentity) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=identity.access_key,
            aws_secret_access_key=identity.secret_key,
            region_name=self.region,
        )

    def _provision_storage(
        self,
        session: boto3.session.Session,
        aws_url: str,
        names: dict[str, str],
        journal: TableJournal,
    ) -> None:
        s3 = session.client("s3", endpoint_url=aws_url, config=_s3_config())
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for bucket in (names["uploads"], names["processed"]):
            if bucket not in existing:
                s3.create_bucket(Bucket=bucket)
        db = session.client("dynamodb", endpoint_url=aws_url)
        table = naming.metadata_table_definition(names["table"])
        # The stream is drained (and trimmed: moto never trims it) by the workflows' poller.
        db.create_table(**table)
        restored = journal.restore()
        log.info("restored %d metadata items", restored)

    def _provision_cognito(
        self,
        session: boto3.session.Session,
        aws_url: str,
        identity: StackIdentity,
        cognito: LocalCognito,
    ) -> tuple[str, str]:
        idp = session.client("cognito-idp", endpoint_url=aws_url)
        pool = idp.create_user_pool(
            PoolName=self._names(identity)["pool"],
            Policies=cast(Any, {"PasswordPolicy": PASSWORD_POLICY}),
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        )["UserPool"]
        pool_id = pool["Id"]
        client = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=APP_CLIENT_NAME,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]
        idp.create_group(UserPoolId=pool_id, GroupName=naming.ADMINS_GROUP)
        cognito.install_signing_key(pool_id)
        saved = read_json(self._state.state_dir / "cognito.json")
        if saved:
            cognito.import_users(pool_id, LocalCognito.load(saved["users"]))
        self._pool_id = pool_id
        return pool_id, client["ClientId"]

    def _services(
        self,
        session: boto3.session.Session,
        config: BackendConfig,
        objects: ObjectStore,
        *,
        on_write: Callable[[], None],
    ) -> Services:
        # botocore checks each call's parameters against the model, and the endpoint checks
        # them again: a sixth of the CPU of committing a batch of files. tests/backend runs
        # the same handlers with the check on.
        unchecked = Config(parameter_validation=False)
        db = metadata_client(
            session.client("dynamodb", endpoint_url=config.aws_endpoint_url, config=unchecked),
            account_id=ACCOUNT_ID,
            region=self.region,
            on_write=on_write,
        )
        s3 = session.client(
            "s3", endpoint_url=config.aws_endpoint_url, config=_s3_config().merge(unchecked)
        )
        assert config.notifications_topic_arn is not None
        events = Events(
            session.client("sns", endpoint_url=config.aws_endpoint_url),
            config.notifications_topic_arn,
            session.client("stepfunctions", endpoint_url=config.aws_endpoint_url),
            config.share_lifecycle_arn,
        )
        assert config.user_pool_id is not None
        # The admin API's Cognito calls go through the AWS endpoint, signed, like any other.
        idp = session.client("cognito-idp", endpoint_url=config.aws_endpoint_url)
        return Services(
            config=config,
            store=MetadataStore(db, config.table_name, default_quota=config.default_quota_bytes),
            uploads=blob_store(s3, config.upload_bucket, objects),
            processed=blob_store(s3, config.processed_bucket, objects),
            events=events,
            directory=CognitoDirectory(idp, config.user_pool_id),
        )

    def _snapshot(self, table: TableJournal, cognito: LocalCognito, full: bool) -> None:
        table.write(compact=full)
        users = LocalCognito.dump(cognito.export_users(self._pool_id))
        data = json.dumps({"users": users}).encode()
        if full or data != self._cognito_saved:  # users rarely change; skip the fsync
            write_atomic(self._state.state_dir / "cognito.json", data)
            self._cognito_saved = data


def _s3_config() -> Config:
    # Loopback has no virtual-host names for buckets.
    return Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 3},
    )
