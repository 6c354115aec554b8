"""`cnnlab hub`: the course on a JupyterHub on 127.0.0.1, one Unix account per person.

The TA's workflow on a hub, one module each:

* `accounts` — the roster's students and the TA as local accounts (PAM logs
  them in), each with a private home; only the accounts made here are ever
  changed or removed;
* `layout` — where the hub keeps its state, the exchange and the TA's copy of
  the course, with the permissions that keep people apart;
* `spawner` — each person's single-user JupyterLab in a bubblewrap view of
  the machine that shows the system, the Python installation, her own home
  and the exchange, and nothing else (no course folder, no other home);
* `config` — the jupyterhub_config.py and the nbgrader config every server reads;
* `serve` — starts JupyterHub and configurable-http-proxy, prints how to log
  in, stops both on Ctrl-C.

A real deployment keeps `layout` and `config` and changes the authenticator
(LTI from the LMS, or the university's OAuth) and perhaps the spawner (see the
README's "The course on a JupyterHub").
"""
