"""The class list's Authenticator as a module-level class, so a config can name it by its import
path (``kjlab.classroom.hub_auth.ClassListAuthenticator``), as the chart's hub does. Imported only
inside a hub: it needs the jupyterhub package."""

from kjlab.classroom.auth import authenticator_class

ClassListAuthenticator = authenticator_class()
