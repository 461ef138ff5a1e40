"""The Chalice app: registers route blueprints and event handlers, nothing else."""

from chalice import Chalice

from chalicelib.handlers import auth, health, husbandry, registration, rest, schema

app = Chalice(app_name="onecloud")
for blueprint in (health.bp, auth.bp, rest.bp, registration.bp, husbandry.bp, schema.bp):
    app.register_blueprint(blueprint)
