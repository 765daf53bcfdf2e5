// Package render turns a job into the objects of one attempt, as Spark's submission client
// would: an empty pod goes through the driver feature steps in KubernetesDriverBuilder's
// order (features.go), each feature in its own file. Output: the driver Pod, its headless
// Service, the conf ConfigMap (spark.properties and the executor pod template) and any extra
// objects (PodGroups, on-demand claims). Pure: the same spec and options always render
// byte-identical objects; nothing here talks to a cluster.
package render
