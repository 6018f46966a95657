//! The web UI is embedded from `web/dist`. A checkout that has not built the UI yet still
//! compiles: a placeholder page says how to build it.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(&dist).expect("create web/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>CityOps</title>\
             <p>The CityOps web UI is not built. Run <code>npm ci &amp;&amp; npm run build</code> in \
             <code>web/</code>, or start with <code>scripts/demo</code>. The API is at \
             <a href=/api/v1/openapi.json>/api/v1/openapi.json</a>.</p>",
        )
        .expect("write placeholder index.html");
    }
}
