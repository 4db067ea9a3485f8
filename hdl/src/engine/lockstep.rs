//! Two engines run side by side on the same inputs, every port compared after every
//! `eval`: how the Verilator engine is proven equal to the Rust-HDL one.
use super::{resolve_ports, Engine, EngineError, PortInfo};

/// One port that differed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Which `eval` (counted from 1).
    pub eval: u64,
    pub port: String,
    pub a: u64,
    pub b: u64,
}

/// An [`Engine`] that drives `a` and `b` alike and compares every port of `a` with the port
/// of the same name in `b` after each [`Engine::eval`]. Reads return `a`'s values.
pub struct Lockstep<A: Engine, B: Engine> {
    pub a: A,
    pub b: B,
    /// For each port of `a`, the id of the same port in `b`.
    map: Vec<usize>,
    evals: u64,
    compared: u64,
    mismatches: Vec<Mismatch>,
    mismatch_count: u64,
    name: String,
}

/// Mismatches kept (the first ones; the count goes on).
const KEEP: usize = 20;

impl<A: Engine, B: Engine> Lockstep<A, B> {
    /// Fails unless both engines have the same ports (names, widths, directions), in any order.
    pub fn new(a: A, b: B) -> Result<Self, EngineError> {
        let mut map = Vec::new();
        for p in a.ports() {
            let [id] = resolve_ports(&b, [p.name.as_str()])?;
            let q = &b.ports()[id];
            if (q.width, q.dir) != (p.width, p.dir) {
                return Err(EngineError::Adapter {
                    engine: format!("{} vs {}", a.name(), b.name()),
                    problem: format!("port `{}`: {p:?} vs {q:?}", p.name),
                });
            }
            map.push(id);
        }
        if b.ports().len() != map.len() {
            return Err(EngineError::Adapter {
                engine: format!("{} vs {}", a.name(), b.name()),
                problem: format!("{} ports vs {}", a.ports().len(), b.ports().len()),
            });
        }
        let name = format!("{} | {}", a.name(), b.name());
        Ok(Lockstep { a, b, map, evals: 0, compared: 0, mismatches: Vec::new(), mismatch_count: 0, name })
    }

    /// The first mismatches seen (at most 20).
    pub fn mismatches(&self) -> &[Mismatch] {
        &self.mismatches
    }

    /// Port values that differed so far (all of them, not only those kept).
    pub fn mismatch_count(&self) -> u64 {
        self.mismatch_count
    }

    /// `eval`s compared so far.
    pub fn evals(&self) -> u64 {
        self.evals
    }

    /// Port values compared so far.
    pub fn compared(&self) -> u64 {
        self.compared
    }
}

impl<A: Engine, B: Engine> Engine for Lockstep<A, B> {
    fn ports(&self) -> &[PortInfo] {
        self.a.ports()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn set(&mut self, port: usize, value: u64) {
        self.a.set(port, value);
        self.b.set(self.map[port], value);
    }
    fn get(&mut self, port: usize) -> u64 {
        self.a.get(port)
    }
    fn eval(&mut self) {
        self.a.eval();
        self.b.eval();
        self.evals += 1;
        for (i, &j) in self.map.iter().enumerate() {
            let (va, vb) = (self.a.get(i), self.b.get(j));
            self.compared += 1;
            if va != vb {
                self.mismatch_count += 1;
            }
            if va != vb && self.mismatches.len() < KEEP {
                let port = self.a.ports()[i].name.clone();
                self.mismatches.push(Mismatch { eval: self.evals, port, a: va, b: vb });
            }
        }
    }
}
