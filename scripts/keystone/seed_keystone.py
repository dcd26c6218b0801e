"""Idempotently seeds a bootstrapped Keystone for the service's tests (run by start-keystone.sh).

Creates the roles member/reader (admin implies member implies reader, as a default
bootstrap does), a `service` project with a `cinder` user holding admin (so it may
validate other users' tokens), the volume service in the catalog as `volumev3` and
`block-storage`, and test projects and users:
  alice (member) and rita (reader) in project `cbt-alpha`; bob (member) in `cbt-beta`.
Prints `export NAME=value` lines for the caller.
With IMAGE_ENDPOINT set, an `image` service (glance) is registered there too: OSC 6.0's
`volume create` builds the image client and fails without one in the catalog.
With COMPUTE_ENDPOINT set, a `compute` service (nova) is registered there: OSC 6.0's `quota set`
and `quota show` build the compute client first and fail without one in the catalog.
Environment: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME (admin), TEST_PASSWORD,
VOLUME_ENDPOINT, IMAGE_ENDPOINT and COMPUTE_ENDPOINT (optional).
"""
import os

from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

env = os.environ
auth = v3.Password(auth_url=env["OS_AUTH_URL"], username=env["OS_USERNAME"], password=env["OS_PASSWORD"],
                   project_name=env["OS_PROJECT_NAME"], user_domain_id="default", project_domain_id="default")
ks = client.Client(session=session.Session(auth=auth, timeout=30))
password = env["TEST_PASSWORD"]
volume_endpoint = env["VOLUME_ENDPOINT"]
image_endpoint = env.get("IMAGE_ENDPOINT", "")
compute_endpoint = env.get("COMPUTE_ENDPOINT", "")


def one(items):
    return items[0] if items else None


def role(name):
    return one(ks.roles.list(name=name)) or ks.roles.create(name)


def project(name):
    return one(ks.projects.list(name=name, domain="default")) or ks.projects.create(name, "default")


def user(name, default_project):
    u = one(ks.users.list(name=name, domain="default"))
    if u is None:
        return ks.users.create(name, domain="default", password=password, default_project=default_project)
    # Re-running with another password must leave the users usable.
    return ks.users.update(u, password=password, default_project=default_project)


def grant(role_ref, user_ref, project_ref):
    ks.roles.grant(role_ref, user=user_ref, project=project_ref)


def _rule_exists(prior, implied):
    try:
        ks.inference_rules.check(prior, implied)
        return True
    except Exception:  # keystoneauth1.exceptions.NotFound
        return False


def service_with_endpoint(type_, name, endpoint, description="Block Storage"):
    svc = one(ks.services.list(type=type_)) or ks.services.create(name, type=type_, description=description)
    for interface in ("public", "internal", "admin"):
        current = [e for e in ks.endpoints.list(service=svc, interface=interface)]
        if current and current[0].url == endpoint:
            continue
        for e in current:
            ks.endpoints.delete(e)
        ks.endpoints.create(svc, endpoint, interface=interface, region="RegionOne")


admin, member, reader = role("admin"), role("member"), role("reader")
if not _rule_exists(admin, member):
    ks.inference_rules.create(admin, member)
if not _rule_exists(member, reader):
    ks.inference_rules.create(member, reader)

service_project = project("service")
cinder = user("cinder", service_project)
grant(admin, cinder, service_project)

alpha, beta = project("cbt-alpha"), project("cbt-beta")
alice, rita, bob = user("alice", alpha), user("rita", alpha), user("bob", beta)
grant(member, alice, alpha)
grant(reader, rita, alpha)
grant(member, bob, beta)

service_with_endpoint("volumev3", "cinderv3", volume_endpoint)
service_with_endpoint("block-storage", "block-storage", volume_endpoint)
if image_endpoint:
    service_with_endpoint("image", "glance", image_endpoint, "Image (version discovery stub)")
if compute_endpoint:
    service_with_endpoint("compute", "nova", compute_endpoint, "Compute (quota read stub)")

admin_project = project("admin")
lines = {
    "KEYSTONE_USERNAME": "cinder",
    "KEYSTONE_PASSWORD": password,
    "KEYSTONE_PROJECT": "service",
    "KEYSTONE_ADMIN_PROJECT_ID": admin_project.id,
    "KEYSTONE_ALPHA_PROJECT_ID": alpha.id,
    "KEYSTONE_BETA_PROJECT_ID": beta.id,
    "KEYSTONE_ALICE_USER_ID": alice.id,
    "KEYSTONE_RITA_USER_ID": rita.id,
    "KEYSTONE_BOB_USER_ID": bob.id,
}
for k, v in lines.items():
    print(f"export {k}={v}")
