// Judging is allocation-heavy (API objects, JSON, CEL values) and runs on every core when a
// class is graded; glibc's malloc spent a third of that time in contention (benches/grade.rs).
// `--features system-allocator` leaves malloc to glibc, where heap profilers (heaptrack,
// valgrind's massif) see every allocation.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(kubelab::cli::main());
}
