// Package job is the model of one Spark job: the operator's SparkApplication spec as Kindling
// reads it (Read), the operator's defaults (Default), the rules every spec must keep whatever
// it renders to (Check; each Spark feature in package render checks its own part), Kindling's own per-job settings, Spark's size and CPU syntax, and
// the identity of a job's objects: their names, app id, labels and container names.
//
// It is the first stop on a job's path: job → render (the objects of one attempt) → cluster
// (apply, watch, outcome, delete). It imports no Temporal and no Kubernetes client.
//
// +k8s:deepcopy-gen=package
package job
