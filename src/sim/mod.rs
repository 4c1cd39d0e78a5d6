//! The simulator: a local, stateful stand-in for every WeChat endpoint wxprov uses (DESIGN §8).
//! PLACEHOLDER until the simulator lands.

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ComponentFixture {
    pub appid: String,
    pub secret: String,
    pub verify_ticket: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Fixture {
    pub component: ComponentFixture,
}

impl Fixture {
    pub fn example() -> Fixture {
        Fixture::default()
    }
    pub fn from_file(_path: &std::path::Path) -> anyhow::Result<Fixture> {
        anyhow::bail!("not yet")
    }
    pub fn refresh_tokens(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    pub latency_ms: u64,
    pub fault_rate: f64,
    pub seed: Option<u64>,
}

pub struct SimHandle {
    pub url: String,
}

impl SimHandle {
    pub async fn shutdown(self) {}
}

pub async fn start(_f: Fixture, _o: SimOptions, _a: std::net::SocketAddr) -> anyhow::Result<SimHandle> {
    anyhow::bail!("not yet")
}
