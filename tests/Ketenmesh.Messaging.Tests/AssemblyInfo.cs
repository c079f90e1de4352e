// Some tests stop the whole broker (rabbitmqctl stop_app); running them beside others would break those.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
