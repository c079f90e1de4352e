// These tests drop broker connections and restart services on purpose, and count what arrives; run
// side by side they would compete for the two cores and stretch every wait, so they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
