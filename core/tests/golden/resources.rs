//! Resource-bound keys: route scopes naming a path parameter
//! (`projects:{project}:read`) are filled from each request's path, so a key
//! holding `projects:p_1:read` opens project p_1 and no other.

use serde_json::json;

use super::{bearer, req, Suite, VectorFile};

pub fn suite() -> VectorFile {
    let mut s = Suite::new(
        "resource_scopes",
        "Scope templates: a route scope naming a path parameter is filled from the request's path (percent-decoded), so keys can be bound to resources; admin and resource wildcards grant every resource; a value that cannot sit in a scope (':', '*', spaces) is granted only by those, and the denial names the template",
        json!({
            "formats": ["keyproof_live"],
            "policy": {
                "routes": [
                    {"method": "GET", "path": "/v1/projects/{project}/briefs", "any_of": ["projects:{project}:read", "projects:read"]},
                    {"method": "POST", "path": "/v1/projects/{project}/briefs", "all_of": ["projects:{project}:write"]},
                    {"method": "GET", "path": "/v1/projects", "all_of": ["projects:read"]}
                ]
            }
        }),
    );
    let mut key = |label: &str, scopes: &[&str]| {
        s.mint(label, "keyproof_live", json!({"name": format!("{label} key"), "scopes": scopes}))
    };
    let p1 = key("p1-reader", &["projects:p_1:read"]);
    let p1_all = key("p1-all-actions", &["projects:p_1:*"]);
    let reader = key("every-project-reader", &["projects:read"]);
    let wildcard = key("projects-wildcard", &["projects:*"]);
    let admin = key("admin", &["admin"]);
    let literal = key("holds-the-template", &["projects:{project}:read"]);
    let get = |path: &str, key: &str| req("GET", path, bearer(key));
    let post = |path: &str, key: &str| req("POST", path, bearer(key));
    s.case("a key bound to project p_1 reads p_1", "ok", get("/v1/projects/p_1/briefs", &p1));
    s.case("a key bound to project p_1 cannot read p_2", "insufficient_scope", get("/v1/projects/p_2/briefs", &p1));
    s.case("the value is read after percent-decoding (p%5F1 is p_1)", "ok", get("/v1/projects/p%5F1/briefs", &p1));
    s.case(
        "a key bound to p_1 for reading cannot write to it",
        "insufficient_scope",
        post("/v1/projects/p_1/briefs", &p1),
    );
    s.case("a key with every action on p_1 writes to p_1", "ok", post("/v1/projects/p_1/briefs", &p1_all));
    s.case(
        "a key with every action on p_1 cannot write to p_2",
        "insufficient_scope",
        post("/v1/projects/p_2/briefs", &p1_all),
    );
    s.case(
        "a value with ':' cannot reach into p_1's scopes (p_1:x is unfillable)",
        "insufficient_scope",
        post("/v1/projects/p_1:x/briefs", &p1_all),
    );
    s.case("any_of: the plain scope reads every project", "ok", get("/v1/projects/p_9/briefs", &reader));
    s.case("the plain scope alone does not write", "insufficient_scope", post("/v1/projects/p_9/briefs", &reader));
    s.case("the resource wildcard opens every project", "ok", post("/v1/projects/p_9/briefs", &wildcard));
    s.case("admin opens every project", "ok", post("/v1/projects/p_9/briefs", &admin));
    s.case("admin opens a project whose id cannot sit in a scope", "ok", get("/v1/projects/acme%20co/briefs", &admin));
    s.case("the wildcard opens it too", "ok", get("/v1/projects/a:b/briefs", &wildcard));
    s.case(
        "a key holding the template's text gets nothing from an unfillable value",
        "insufficient_scope",
        get("/v1/projects/acme%20co/briefs", &literal),
    );
    s.case(
        "a key holding the template's text gets no project",
        "insufficient_scope",
        get("/v1/projects/p_1/briefs", &literal),
    );
    s.case("a route without templates is unchanged", "insufficient_scope", get("/v1/projects", &p1));
    s.finish()
}
