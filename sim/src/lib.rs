//! nic-sim: the simulation model of the card and the front-door binary `nic`.
pub mod bench;
pub mod cli;
pub mod cmd_host;
pub mod cmd_tap;
pub mod demo;
pub mod host;
pub mod line;
pub mod line_demo;
pub mod model;
pub mod pcap;
pub mod replay;
pub mod runtime;
pub mod services;
pub mod signals;
pub mod sim_backend;
