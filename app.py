"""The Chalice app: registers route blueprints and event handlers, nothing else."""

from chalice import Chalice

from chalicelib.handlers import (
    alyx,
    analyses,
    atlas,
    auth,
    cache,
    downloads,
    events,
    health,
    husbandry,
    notifications,
    public,
    registration,
    rest,
    schema,
    sharing,
    tasks,
    uploads,
)
from chalicelib.web import bp as web_pages

app = Chalice(app_name="onecloud")
app.api.binary_types.append("multipart/form-data")  # note images (REST and pages) arrive as files
for blueprint in (
    health.bp,
    auth.bp,
    rest.bp,
    registration.bp,
    husbandry.bp,
    uploads.bp,
    tasks.bp,
    events.bp,
    schema.bp,
    downloads.bp,
    public.bp,
    cache.bp,
    web_pages,
    alyx.bp,
    notifications.bp,
    atlas.bp,
    analyses.bp,
    sharing.bp,
):
    app.register_blueprint(blueprint)
