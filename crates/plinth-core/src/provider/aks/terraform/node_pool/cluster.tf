variable "cluster" {
  description = "What the cluster module shares with its node pools."
  type = object({
    id                 = string
    kubernetes_version = optional(string)
    zones              = list(string)
    subnet_id          = string
    tags               = map(string)
  })
}
