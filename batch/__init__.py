"""AWS Batch jobs: the processing that runs next to the data (mtscomp compression, spike sorting)."""
