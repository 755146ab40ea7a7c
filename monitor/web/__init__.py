"""The web application (``parkmon serve``): the read side in the browser, FastAPI + Jinja2.

Pages are rendered on the server with autoescaping; every request is answered from the
database read-only. ``create_app`` builds the application for given settings;
``app_from_environment`` is uvicorn's factory for worker processes.
"""
