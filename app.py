"""The Chalice app: registers route blueprints and event handlers, nothing else."""

from chalice import Chalice

from chalicelib.handlers import health

app = Chalice(app_name="onecloud")
app.register_blueprint(health.bp)
