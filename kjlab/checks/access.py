"""Least-rights credentials for code that may only touch one namespace.

:func:`grant` makes a ServiceAccount in the namespace, a Role with just the verbs asked for, a
RoleBinding, and a token from the TokenRequest API (bound to the ServiceAccount, short-lived), and
returns a kubeconfig that holds only that token. :meth:`Access.revoke` deletes the RoleBinding (the
token can do nothing from then on: RBAC answers 403), the Role and the ServiceAccount (the API server
then refuses the token itself with 401, once its token cache -- about 10 s -- lets go of it);
deleting the namespace does the same.

The API server is the judge: whatever the holder of this kubeconfig tries outside its Role is
refused with 403 by the real RBAC authorizer.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import yaml
from kubernetes import client, config

from kjlab.api import kube
from kjlab.errors import KjlabError

NAME = "kjlab-answer"
# The TokenRequest API's minimum expiry is 10 minutes; the token dies earlier with its ServiceAccount.
TOKEN_SECONDS = 600


@dataclass
class Access:
    context: str          # the context name inside ``kubeconfig``
    namespace: str
    kubeconfig: str       # YAML text: one cluster, one user (the token), one context
    _checker: str = ""

    def revoke(self) -> None:
        """Delete the RoleBinding (no rights at once), the Role and the ServiceAccount (the token is refused)."""
        core, rbac = kube.core(self._checker), client.RbacAuthorizationV1Api(kube.api_client(self._checker))
        for delete in (lambda: rbac.delete_namespaced_role_binding(NAME, self.namespace),
                       lambda: rbac.delete_namespaced_role(NAME, self.namespace),
                       lambda: core.delete_namespaced_service_account(NAME, self.namespace)):
            try:
                delete()
            except client.ApiException as e:
                if e.status != 404:
                    raise


def grant(context: str, namespace: str, rules: list[dict], seconds: int = TOKEN_SECONDS) -> Access:
    """A kubeconfig allowed ``rules`` (RBAC PolicyRules as dicts) in ``namespace`` and nothing else."""
    core, rbac = kube.core(context), client.RbacAuthorizationV1Api(kube.api_client(context))
    meta = {"name": NAME, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "kjlab"}}
    core.create_namespaced_service_account(namespace, {"metadata": meta})
    rbac.create_namespaced_role(namespace, {"metadata": meta, "rules": rules})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}],
    })
    token = kube.raw(core.create_namespaced_service_account_token, NAME, namespace,
                     {"spec": {"audiences": [], "expirationSeconds": seconds}})["status"]["token"]
    name = f"{NAME}@{namespace}"
    granted = Access(name, namespace, kubeconfig_text(context, name, namespace, token), context)
    try:
        _confirm(granted, rules)
    except BaseException:
        granted.revoke()
        raise
    return granted


def _confirm(granted: Access, rules: list[dict]) -> None:
    """Ask the API server, as the token, what it may do: the first rule in its namespace (which
    also waits out the moment before RBAC sees the new binding), and nothing in kube-system. A
    cluster that does not enforce RBAC (AlwaysAllow) would hand the token everything: refused."""
    api = client.AuthorizationV1Api(config.new_client_from_config_dict(yaml.safe_load(granted.kubeconfig)))

    def may(verb: str, resource: str, namespace: str) -> bool:
        group, _, sub = "", resource, None
        if "/" in resource:
            resource, sub = resource.split("/", 1)
        review = {"spec": {"resourceAttributes": {"verb": verb, "resource": resource, "subresource": sub,
                                                  "group": group, "namespace": namespace}}}
        return bool(kube.raw(api.create_self_subject_access_review, review)["status"].get("allowed"))

    first = rules[0]
    deadline = time.monotonic() + 10
    while not may(first["verbs"][0], first["resources"][0], granted.namespace):
        if time.monotonic() > deadline:
            raise KjlabError(f"the check's ServiceAccount was not granted its Role in {granted.namespace} within 10 s",
                             "look at the cluster's RBAC: kjlab kubectl auth can-i --list")
        time.sleep(0.1)
    if may("delete", "pods", "kube-system"):
        raise KjlabError("this cluster does not enforce RBAC (a namespace-scoped token may delete pods in kube-system), "
                         "so the check cannot limit what an answer's code may do",
                         "use the lab cluster (kjlab up), whose API server authorizes with RBAC")


def kubeconfig_text(context: str, name: str, namespace: str, token: str) -> str:
    """A kubeconfig for the cluster behind ``context`` that authenticates with ``token`` only."""
    conf = kube.api_client(context).configuration
    cluster = {"server": conf.host}
    if conf.ssl_ca_cert:
        with open(conf.ssl_ca_cert, "rb") as f:
            cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
    if not conf.verify_ssl:
        cluster["insecure-skip-tls-verify"] = True
    if getattr(conf, "tls_server_name", None):
        cluster["tls-server-name"] = conf.tls_server_name
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
    }
    return yaml.safe_dump(doc, sort_keys=False)
