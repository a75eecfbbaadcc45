output "name" {
  description = "The node group's name."
  value       = aws_eks_node_group.pool.node_group_name
}
