//! Time and waiting, injected: the one place host code (driver, stack, applications) gets
//! its clock, blocks, wakes others and starts threads.
//!
//! Two implementations share this interface:
//! * [`Runtime::os`]: the OS monotonic clock, condition variables and threads. A board
//!   through VFIO, and a simulated card on a TAP facing Linux, run on it: Linux lives in
//!   real time.
//! * the simulated runtime in `nic-sim` (`nic_sim::runtime`): the clock is the simulated
//!   cards' clock, exactly one host thread runs at a time in a fixed order, and the cards
//!   advance only while every host thread is blocked. The same seed then gives the same
//!   run, clock for clock.
//!
//! Waiting is by generation, so no wake-up is lost: read an [`Event`]'s generation, check
//! the condition, then wait for the generation to move on. A notify between the check and
//! the wait makes the wait return at once.
//!
//! Rule for code that runs on the simulated runtime: never block the OS thread in any other
//! way (no `std::thread::sleep`, no `Condvar`, no `JoinHandle::join`, and no `Mutex` held
//! across a wait): the simulated runtime would wait forever for a thread that waits for it.
use std::io;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What a runtime provides; [`Runtime`] is the handle code holds.
pub trait Scheduler: Send + Sync + 'static {
    /// Nanoseconds since the runtime started, on its clock.
    fn now_ns(&self) -> u64;
    /// A new event with generation 0.
    fn new_event(&self) -> Arc<dyn EventCore>;
    /// Starts `body` on a new thread the runtime knows about.
    fn spawn(&self, name: String, body: Box<dyn FnOnce() + Send>) -> io::Result<std::thread::JoinHandle<()>>;
    /// "os" or "simulated", for logs and reports.
    fn kind(&self) -> &'static str;
}

/// The inside of an [`Event`].
pub trait EventCore: Send + Sync {
    fn generation(&self) -> u64;
    /// Moves the generation on and wakes every waiter.
    fn notify(&self);
    /// Blocks while the generation is `seen` and `deadline_ns` (the runtime's clock; `None`:
    /// none) has not come.
    fn wait(&self, seen: u64, deadline_ns: Option<u64>);
}

/// A handle to a runtime. Cheap to clone.
#[derive(Clone)]
pub struct Runtime(Arc<dyn Scheduler>);

impl Runtime {
    pub fn new(s: Arc<dyn Scheduler>) -> Runtime {
        Runtime(s)
    }

    /// The OS runtime: one per process, its clock counting from the first call.
    pub fn os() -> Runtime {
        static OS: std::sync::OnceLock<Runtime> = std::sync::OnceLock::new();
        OS.get_or_init(|| Runtime(Arc::new(OsScheduler { start: Instant::now() }))).clone()
    }

    pub fn now_ns(&self) -> u64 {
        self.0.now_ns()
    }

    pub fn now_ms(&self) -> u64 {
        self.now_ns() / 1_000_000
    }

    /// The runtime's time now plus `d`, saturating, in ns.
    pub fn deadline(&self, d: Duration) -> u64 {
        self.now_ns().saturating_add(d.as_nanos().min(u64::MAX as u128) as u64)
    }

    /// Time left until `deadline_ns` (zero once it has come).
    pub fn until(&self, deadline_ns: u64) -> Duration {
        Duration::from_nanos(deadline_ns.saturating_sub(self.now_ns()))
    }

    pub fn event(&self) -> Event {
        Event(self.0.new_event())
    }

    pub fn sleep(&self, d: Duration) {
        let deadline = self.deadline(d);
        let e = self.event();
        while self.now_ns() < deadline {
            e.wait(e.generation(), Some(deadline));
        }
    }

    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// Runs `f` on a new thread; [`Task::join`] waits for it on this runtime.
    pub fn spawn<T: Send + 'static>(
        &self,
        name: impl Into<String>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<Task<T>> {
        let done = self.event();
        let slot: Arc<Mutex<Option<std::thread::Result<T>>>> = Arc::new(Mutex::new(None));
        let (done2, slot2) = (done.clone(), slot.clone());
        let body = Box::new(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            *slot2.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            done2.notify();
        });
        let thread = self.0.spawn(name.into(), body)?;
        Ok(Task { done, slot, thread: Some(thread) })
    }
}

/// A wake-up channel: waiters sleep until the next [`Event::notify`] or their deadline.
#[derive(Clone)]
pub struct Event(Arc<dyn EventCore>);

impl Event {
    pub fn generation(&self) -> u64 {
        self.0.generation()
    }

    pub fn notify(&self) {
        self.0.notify()
    }

    /// Blocks while the generation is `seen` and the deadline has not come.
    pub fn wait(&self, seen: u64, deadline_ns: Option<u64>) {
        self.0.wait(seen, deadline_ns)
    }

    /// Waits until `ready` holds (re-checked after every notify) or `deadline_ns` comes;
    /// returns whether it held.
    pub fn wait_until(&self, rt: &Runtime, deadline_ns: Option<u64>, mut ready: impl FnMut() -> bool) -> bool {
        loop {
            let seen = self.generation();
            if ready() {
                return true;
            }
            if deadline_ns.is_some_and(|d| rt.now_ns() >= d) {
                return false;
            }
            self.wait(seen, deadline_ns);
        }
    }
}

/// A thread started by [`Runtime::spawn`].
pub struct Task<T> {
    done: Event,
    slot: Arc<Mutex<Option<std::thread::Result<T>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<T> Task<T> {
    pub fn is_finished(&self) -> bool {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Waits (on the runtime) for the thread's result; `Err` holds its panic.
    pub fn join(mut self) -> std::thread::Result<T> {
        loop {
            let seen = self.done.generation();
            if let Some(r) = self.slot.lock().unwrap_or_else(|p| p.into_inner()).take() {
                // The body has finished; the OS thread ends without waiting for anyone.
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
                return r;
            }
            self.done.wait(seen, None);
        }
    }
}

struct OsScheduler {
    start: Instant,
}

impl Scheduler for OsScheduler {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn new_event(&self) -> Arc<dyn EventCore> {
        Arc::new(OsEvent { start: self.start, gen: Mutex::new(0), cv: Condvar::new() })
    }

    fn spawn(&self, name: String, body: Box<dyn FnOnce() + Send>) -> io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new().name(name).spawn(body)
    }

    fn kind(&self) -> &'static str {
        "os"
    }
}

struct OsEvent {
    start: Instant,
    gen: Mutex<u64>,
    cv: Condvar,
}

impl EventCore for OsEvent {
    fn generation(&self) -> u64 {
        *self.gen.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notify(&self) {
        *self.gen.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.cv.notify_all();
    }

    fn wait(&self, seen: u64, deadline_ns: Option<u64>) {
        let mut g = self.gen.lock().unwrap_or_else(|p| p.into_inner());
        while *g == seen {
            match deadline_ns {
                None => g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let now = self.start.elapsed().as_nanos() as u64;
                    if now >= d {
                        return;
                    }
                    g = self.cv.wait_timeout(g, Duration::from_nanos(d - now)).unwrap_or_else(|p| p.into_inner()).0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_before_the_wait_is_not_lost() {
        let rt = Runtime::os();
        let e = rt.event();
        let seen = e.generation();
        e.notify();
        let t0 = Instant::now();
        e.wait(seen, None); // returns at once: the generation moved
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert_eq!(e.generation(), seen + 1);
    }

    #[test]
    fn wait_until_times_out_and_tasks_join_with_their_result() {
        let rt = Runtime::os();
        let e = rt.event();
        let deadline = rt.deadline(Duration::from_millis(5));
        assert!(!e.wait_until(&rt, Some(deadline), || false));
        assert!(rt.now_ns() >= deadline);
        let e2 = e.clone();
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f2 = flag.clone();
        let task = rt
            .spawn("t", move || {
                f2.store(true, std::sync::atomic::Ordering::SeqCst);
                e2.notify();
                7
            })
            .unwrap();
        assert!(e.wait_until(&rt, None, || flag.load(std::sync::atomic::Ordering::SeqCst)));
        assert_eq!(task.join().unwrap(), 7);
        let boom = rt.spawn("p", || panic!("boom")).unwrap();
        assert!(boom.join().is_err(), "a panic comes back as Err");
    }
}
