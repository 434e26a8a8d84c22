"""The Dash app's static files (CSS, vendored Bootstrap, map outlines), installed as the package
``app.assets``; :mod:`app.main` serves this folder."""
