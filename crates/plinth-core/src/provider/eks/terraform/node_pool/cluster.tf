variable "cluster" {
  description = "What the cluster module shares with its node pools."
  type = object({
    name                 = string
    version              = string
    node_role_arn        = string
    vpc_id               = string
    zones                = list(string)
    subnets              = map(string)
    public_route_tables  = map(string)
    private_route_tables = map(string)
    tags                 = map(string)
  })
}
