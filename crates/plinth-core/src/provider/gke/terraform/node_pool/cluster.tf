variable "cluster" {
  description = "What the cluster module shares with its node pools."
  type = object({
    id                    = string
    name                  = string
    project               = string
    location              = string
    node_locations        = list(string)
    service_account_email = string
    workload_metadata     = string
    labels                = map(string)
  })
}
