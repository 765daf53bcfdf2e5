package render

import (
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kindling-dev/kindling/k8s/job"
)

// dynamicAllocation is the operator's spec.dynamicAllocation as Spark's keys; the driver's
// ExecutorPodsAllocator does the rest.
var dynamicAllocation = feature{
	name: "dynamic-allocation",
	validate: func(s *job.JobSpec) field.ErrorList {
		var errs field.ErrorList
		da := s.DynamicAllocation
		if da == nil || !da.Enabled {
			return nil
		}
		at := job.SpecPath.Child("dynamicAllocation")
		if da.MinExecutors != nil && da.MaxExecutors != nil && *da.MinExecutors > *da.MaxExecutors {
			errs = append(errs, job.Invalid(at.Child("minExecutors"), "must not exceed maxExecutors (%d > %d)", *da.MinExecutors, *da.MaxExecutors))
		}
		if da.InitialExecutors != nil && da.MaxExecutors != nil && *da.InitialExecutors > *da.MaxExecutors {
			errs = append(errs, job.Invalid(at.Child("initialExecutors"), "must not exceed maxExecutors (%d > %d)", *da.InitialExecutors, *da.MaxExecutors))
		}
		return errs
	},
	conf: func(b *build) {
		da := b.spec.DynamicAllocation
		if da == nil || !da.Enabled {
			return
		}
		b.set("spark.dynamicAllocation.enabled", "true")
		setInt := func(k string, v *int32) {
			if v != nil {
				b.set(k, strconv.Itoa(int(*v)))
			}
		}
		setInt("spark.dynamicAllocation.initialExecutors", da.InitialExecutors)
		setInt("spark.dynamicAllocation.minExecutors", da.MinExecutors)
		setInt("spark.dynamicAllocation.maxExecutors", da.MaxExecutors)
		// Kubernetes has no external shuffle service: shuffle tracking is what makes
		// dynamic allocation work, so it is on unless the user turns it off.
		tracking := da.ShuffleTrackingEnabled == nil || *da.ShuffleTrackingEnabled
		b.set("spark.dynamicAllocation.shuffleTracking.enabled", strconv.FormatBool(tracking))
		if da.ShuffleTrackingTimeout != nil {
			b.set("spark.dynamicAllocation.shuffleTracking.timeout", strconv.FormatInt(*da.ShuffleTrackingTimeout, 10))
		}
	},
}
