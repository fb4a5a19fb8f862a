"""The CDK app: ``cdk synth`` / ``cdk deploy --all`` run ``python -m backend.infra.app``."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks

from backend.infra.settings import Settings
from backend.infra.stacks.analytics import AnalyticsStack
from backend.infra.stacks.api import ApiStack
from backend.infra.stacks.audit import AuditStack
from backend.infra.stacks.auth import AuthStack
from backend.infra.stacks.data import DataStack
from backend.infra.stacks.edge import WAF_REGION, EdgeStack
from backend.infra.stacks.notifications import NotificationsStack
from backend.infra.stacks.storage import StorageStack
from backend.infra.stacks.workflows import WorkflowsStack


@dataclass(frozen=True)
class FileVaultStacks:
    storage: StorageStack
    auth: AuthStack
    data: DataStack
    notifications: NotificationsStack
    workflows: WorkflowsStack
    edge: EdgeStack | None
    api: ApiStack
    audit: AuditStack
    analytics: AnalyticsStack

    def all(self) -> list[Stack]:
        return [s for s in vars(self).values() if isinstance(s, Stack)]


def build(app: App, settings: Settings) -> FileVaultStacks:
    """Every stack of one deployment, in dependency order."""
    env = Environment(account=settings.account, region=settings.region)
    # The WAF reference crosses regions, which needs a concrete region on both stacks.
    cross_region = settings.region is not None
    p = settings.prefix
    storage = StorageStack(app, f"{p}-Storage", settings=settings, env=env)
    auth = AuthStack(app, f"{p}-Auth", settings=settings, env=env)
    data = DataStack(app, f"{p}-Data", settings=settings, key=storage.key, env=env)
    notifications = NotificationsStack(
        app, f"{p}-Notifications", settings=settings, key=storage.key, env=env
    )
    workflows = WorkflowsStack(
        app,
        f"{p}-Workflows",
        settings=settings,
        key=storage.key,
        table=data.table,
        uploads=storage.uploads,
        processed=storage.processed,
        analytics=storage.analytics,
        topic=notifications.topic,
        env=env,
    )
    edge = (
        EdgeStack(
            app,
            f"{p}-Edge",
            settings=settings,
            env=Environment(account=settings.account, region=WAF_REGION),
            cross_region_references=True,
        )
        if cross_region
        else None
    )
    api = ApiStack(
        app,
        f"{p}-Api",
        settings=settings,
        key=storage.key,
        table=data.table,
        uploads=storage.uploads,
        processed=storage.processed,
        access_logs=storage.access_logs,
        user_pool=auth.user_pool,
        client=auth.desktop_client,
        analytics=storage.analytics,
        topic=notifications.topic,
        workflows=workflows,
        web_acl_arn=edge.web_acl.arn if edge else None,
        env=env,
        cross_region_references=cross_region,
    )
    functions = {
        **{f"Api{g.title()}": f.function for g, f in api.functions.items()},
        **{name: f.function for name, f in workflows.functions.items()},
    }
    audit = AuditStack(
        app,
        f"{p}-Audit",
        settings=settings,
        key=storage.key,
        access_logs=storage.access_logs,
        data_buckets={
            "uploads": storage.uploads,
            "processed": storage.processed,
            "analytics": storage.analytics,
        },
        api_id=api.http.api.api_id,
        api_functions={g: f.function for g, f in api.functions.items()},
        functions=functions,
        state_machines={n: w.state_machine for n, w in workflows.workflows.items()},
        table_name=data.table.table_name,
        parameters={
            "api-url": api.http.url,
            "share-base-url": api.edge.base_url,
            "user-pool-id": auth.user_pool.user_pool_id,
            "user-pool-client-id": auth.desktop_client.user_pool_client_id,
            "upload-bucket": storage.uploads.bucket_name,
            "table": data.table.table_name,
        },
        env=env,
    )
    analytics = AnalyticsStack(
        app,
        f"{p}-Analytics",
        settings=settings,
        key=storage.key,
        analytics=storage.analytics,
        env=env,
    )
    return FileVaultStacks(
        storage, auth, data, notifications, workflows, edge, api, audit, analytics
    )


def main() -> None:
    app = App()
    settings = Settings.from_context(app.node.try_get_context)
    build(app, settings)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()


if __name__ == "__main__":
    main()
