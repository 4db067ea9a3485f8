//! What can go wrong when building or using an engine.
use crate::verilog::tools::ToolError;

#[derive(Debug)]
pub enum EngineError {
    /// A port name the engine does not have.
    UnknownPort {
        engine: String,
        name: String,
        available: Vec<String>,
    },
    /// A port wider than the 64 bits `Engine::set`/`get` carry.
    WidePort {
        engine: String,
        port: String,
        width: u32,
    },
    /// A Rust-HDL adapter's port list disagrees with the block it wraps.
    Adapter {
        engine: String,
        problem: String,
    },
    Tool(ToolError),
    Io {
        what: String,
        err: std::io::Error,
    },
    /// Verilator or the C++ compiler failed; the tail of its output.
    Build {
        module: String,
        log: String,
    },
    /// The built library could not be loaded or does not match the module.
    Load {
        path: String,
        problem: String,
    },
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::UnknownPort { engine, name, available } => {
                write!(f, "{engine}: no port named `{name}`; its ports are: {}", available.join(", "))
            }
            EngineError::WidePort { engine, port, width } => write!(
                f,
                "{engine}: port `{port}` is {width} bits wide; engines carry at most 64 bits per port \
                 (split it into narrower ports)"
            ),
            EngineError::Adapter { engine, problem } => write!(f, "{engine}: {problem}"),
            EngineError::Tool(e) => write!(f, "{e}"),
            EngineError::Io { what, err } => write!(f, "{what}: {err}"),
            EngineError::Build { module, log } => {
                write!(f, "building the Verilator engine for `{module}` failed:\n{log}")
            }
            EngineError::Load { path, problem } => write!(f, "loading the Verilator engine {path}: {problem}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<ToolError> for EngineError {
    fn from(e: ToolError) -> Self {
        EngineError::Tool(e)
    }
}

/// `map_err` helper for I/O with a description of what was being done.
pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> EngineError {
    let what = what.into();
    move |err| EngineError::Io { what, err }
}
