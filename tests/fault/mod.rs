//! Faults under load, against real `rekor-server` processes: a hundred kill -9 at random
//! moments, a disk that fills up, a store damaged on disk.

mod damaged;
mod disk_full;
mod kill9;
