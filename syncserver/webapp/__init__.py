"""The web app's files (index.html, styles, ES modules, vendored libraries), served
under /ui by syncserver/handlers/webapp.py. No build step: what is here is what runs."""
