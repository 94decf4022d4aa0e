# The class server's JupyterHub. Started by hub/launch.py (`make hub`), which checks the roster and
# prepares the state folder first; every setting below comes from its environment.
import os
import sys
from pathlib import Path

from class_hub import ensure_system_user, nbgitpuller_path  # hub/ is on PYTHONPATH (hub/launch.py)
from roster import read_admins, read_roster

env = Path(sys.executable).parent.parent  # the shared environment: hub, servers and kernels
state = Path(os.environ["HUB_STATE"])  # mode 700, root only: secrets and databases
c = get_config()  # noqa: F821

# Loopback unless the instructor opens it up; internal ports movable so two hubs can coexist.
c.JupyterHub.bind_url = f"http://{os.environ.get('HUB_IP', '127.0.0.1')}:{os.environ.get('HUB_PORT', '8000')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(Path(__file__).parent / "node_modules/.bin/configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")

# Own password per student, set at first log-in; only roster names get in (no shared password).
c.JupyterHub.authenticator_class = "class_hub.RosterAuthenticator"
c.Authenticator.allowed_users = set(read_roster(os.environ["CLASS_ROSTER"]))
c.Authenticator.admin_users = set(read_admins(os.environ.get("ADMIN_USERS")))
c.FirstUseAuthenticator.dbm_path = str(state / "passwords.dbm")
c.FirstUseAuthenticator.min_password_length = 8
c.JupyterHub.template_vars = {
    "announcement_login": "First visit? The password you type now becomes yours (8 characters or more)."
}

# One system user per student, server run as that user (never root), from the shared environment.
c.Spawner.pre_spawn_hook = ensure_system_user
c.Spawner.ip = "127.0.0.1"
c.Spawner.cmd = [str(env / "bin/jupyterhub-singleuser")]
c.Spawner.args = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    # Kernels talk over Unix sockets in the student's home: with many kernels starting at
    # once, random TCP ports collide ("Address already in use"), and no port is exposed.
    "--KernelManager.transport=ipc",
]
c.Spawner.env_keep = ["LANG", "LC_ALL", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]  # same numerics as the reference run
c.Spawner.environment = {
    "PATH": f"{env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "TIKTOKEN_CACHE_DIR": str(env / "share/tiktoken"),  # seeded at build time: no downloads
}
c.Spawner.start_timeout = c.Spawner.http_timeout = 180  # a full class starting at once on a small machine
# Log-in lands on notebook 01 of the student's own copy, pulled (or updated) by nbgitpuller.
c.Spawner.default_url = nbgitpuller_path(
    os.environ["HUB_REPO"], os.environ["HUB_BRANCH"], "embeddings", "notebooks/01_token_embeddings.ipynb"
)

# Idle servers are stopped, freeing their memory; the timeout is the instructor's choice.
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={os.environ.get('HUB_IDLE_TIMEOUT', '3600')}",
            f"--cull-every={os.environ.get('HUB_CULL_EVERY', '60')}",
        ],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    }
]
