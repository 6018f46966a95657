//! What CityOps's tests and benchmarks share, and the product never links: scratch PostgreSQL
//! databases, the tests' MQTT broker and a private Mosquitto, private NATS JetStream servers,
//! and (feature `server`) a real
//! CityOps on a random port with a signed-in user for every role.
//!
//! Unlike the product's libraries, test support reads the environment: `CITYOPS_TEST_PG_URL`
//! and `CITYOPS_TEST_MQTT_URL` name the services, and `CITYOPS_REQUIRE_PG` /
//! `CITYOPS_REQUIRE_MQTT` (and `CITYOPS_REQUIRE_NATS` for `nats-server`) turn a missing one
//! from a skip into a failure. It is only ever a
//! dev-dependency of a product crate (tidy checks it).

#[cfg(feature = "server")]
mod app;
pub mod mqtt;
pub mod nats;
pub mod scratch;

#[cfg(feature = "server")]
pub use app::*;
