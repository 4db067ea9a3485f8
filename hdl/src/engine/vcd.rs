//! Waveforms from any engine: [`VcdRecorder`] wraps an [`Engine`] and, whenever an `eval`
//! moved one of the clock ports it was given, writes every port that changed to a VCD file.
//! So the same waveform comes out of the Rust-HDL engine and the Verilator engine.
use super::{Engine, EngineError, PortInfo};
use crate::engine::error::io;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The output, shared between the `vcd::Writer` (which cannot give it back) and
/// [`VcdRecorder::finish`].
struct Shared<W>(Arc<Mutex<W>>);

impl<W: Write> Write for Shared<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

/// An [`Engine`] that records a VCD of the engine it wraps at every clock edge.
pub struct VcdRecorder<E: Engine, W: Write + Send> {
    inner: E,
    writer: vcd::Writer<Shared<W>>,
    out: Arc<Mutex<W>>,
    ids: Vec<vcd::IdCode>,
    clocks: Vec<usize>,
    /// Last written value of each port (None before the first record).
    last: Vec<Option<u64>>,
    time: u64,
    explicit_time: bool,
    error: Option<std::io::Error>,
    /// Samples still to write (`None`: no limit); at 0 the file is flushed and recording
    /// stops, so a long run can keep a waveform of its start.
    remaining: Option<u64>,
}

fn write_value<W: Write>(w: &mut vcd::Writer<W>, id: vcd::IdCode, width: u32, v: u64) -> std::io::Result<()> {
    if width == 1 {
        w.change_scalar(id, v & 1 != 0)
    } else {
        let bits: Vec<vcd::Value> = (0..width).rev().map(|b| ((v >> b) & 1 != 0).into()).collect();
        w.change_vector(id, &bits)
    }
}

impl<E: Engine, W: Write + Send> VcdRecorder<E, W> {
    /// Record `inner` into `out`, one sample per edge of any of the named clock ports. The
    /// header is written here; timestamps count edges unless [`VcdRecorder::set_time`] is used.
    pub fn new(inner: E, out: W, clocks: &[&str]) -> Result<Self, EngineError> {
        let clock_ids = clocks
            .iter()
            .map(|c| {
                inner.port_id(c).ok_or_else(|| EngineError::UnknownPort {
                    engine: inner.name().to_string(),
                    name: c.to_string(),
                    available: inner.ports().iter().map(|p| p.name.clone()).collect(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = Arc::new(Mutex::new(out));
        let mut writer = vcd::Writer::new(Shared(Arc::clone(&out)));
        let mut ids = Vec::new();
        (|| -> std::io::Result<()> {
            writer.timescale(1, vcd::TimescaleUnit::FS)?;
            writer.add_module("top")?;
            for p in inner.ports() {
                ids.push(writer.add_wire(p.width, &p.name)?);
            }
            writer.upscope()?;
            writer.enddefinitions()
        })()
        .map_err(io("writing the VCD header"))?;
        let n = inner.ports().len();
        Ok(VcdRecorder {
            inner,
            writer,
            out,
            ids,
            clocks: clock_ids,
            last: vec![None; n],
            time: 0,
            explicit_time: false,
            error: None,
            remaining: None,
        })
    }

    /// Write at most `samples` samples (clock edges), then flush and stop recording.
    pub fn with_limit(mut self, samples: u64) -> Self {
        self.remaining = Some(samples);
        self
    }

    /// Stamp the following edges with `t` (femtoseconds, e.g. `sim::Edge::time_fs`) instead
    /// of counting edges.
    pub fn set_time(&mut self, t: u64) {
        self.time = t;
        self.explicit_time = true;
    }

    pub fn inner(&mut self) -> &mut E {
        &mut self.inner
    }

    /// Flush and return the engine and the output, or the first write error.
    pub fn finish(mut self) -> Result<(E, W), EngineError> {
        if let Some(e) = self.error.take() {
            return Err(EngineError::Io { what: "writing the VCD".into(), err: e });
        }
        let VcdRecorder { inner, writer, out, .. } = self;
        drop(writer);
        let mut out = Arc::try_unwrap(out)
            .map_err(|_| EngineError::Io { what: "VCD output".into(), err: std::io::Error::other("still shared") })?
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        out.flush().map_err(io("flushing the VCD"))?;
        Ok((inner, out))
    }

    fn record(&mut self) -> std::io::Result<()> {
        if !self.explicit_time {
            self.time += 1;
        }
        self.writer.timestamp(self.time)?;
        for i in 0..self.ids.len() {
            let v = self.inner.get(i);
            if self.last[i] != Some(v) {
                let width = self.inner.ports()[i].width;
                write_value(&mut self.writer, self.ids[i], width, v)?;
                self.last[i] = Some(v);
            }
        }
        Ok(())
    }
}

impl<E: Engine, W: Write + Send> Engine for VcdRecorder<E, W> {
    fn ports(&self) -> &[PortInfo] {
        self.inner.ports()
    }
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn set(&mut self, port: usize, value: u64) {
        self.inner.set(port, value)
    }
    fn get(&mut self, port: usize) -> u64 {
        self.inner.get(port)
    }
    fn eval(&mut self) {
        self.inner.eval();
        let first = self.last[0].is_none();
        let moved = self.clocks.iter().any(|&c| self.last[c] != Some(self.inner.get(c)));
        if (first || moved) && self.error.is_none() && self.remaining != Some(0) {
            if let Err(e) = self.record() {
                self.error = Some(e);
            }
            if let Some(r) = self.remaining.as_mut() {
                *r -= 1;
                if *r == 0 {
                    let flushed = self.out.lock().unwrap_or_else(|e| e.into_inner()).flush();
                    if let Err(e) = flushed {
                        self.error = Some(e);
                    }
                }
            }
        }
    }
}
