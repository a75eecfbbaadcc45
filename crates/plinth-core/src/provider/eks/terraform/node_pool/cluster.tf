variable "cluster" {
  description = "What the cluster module shares with its node pools."
  type = object({
    name          = string
    node_role_arn = string
    vpc_id        = string
    zones         = list(string)
    subnets       = map(string)
    tags          = map(string)
  })
}
