package interceptor

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// inputTypes finds the request type of a server-streaming method, so the
// front door can read the request itself and gate it before the handler
// starts. Lookups are cached by full method name.
type inputTypes struct {
	cache sync.Map // full method name → protoreflect.MessageType
}

// lookup returns the request type of fullMethod. schema, when it is a
// protoreflect.MethodDescriptor (Connect's Spec.Schema), is used directly;
// otherwise the method is looked up in the global registry, where generated
// code registers every service.
func (c *inputTypes) lookup(fullMethod string, schema any) (protoreflect.MessageType, error) {
	if t, ok := c.cache.Load(fullMethod); ok {
		return t.(protoreflect.MessageType), nil
	}
	md, ok := schema.(protoreflect.MethodDescriptor)
	if !ok {
		var err error
		if md, err = findMethod(fullMethod); err != nil {
			return nil, err
		}
	}
	in := md.Input()
	t, err := protoregistry.GlobalTypes.FindMessageByName(in.FullName())
	if err != nil {
		t = dynamicpb.NewMessageType(in)
	}
	c.cache.Store(fullMethod, t)
	return t, nil
}

func findMethod(fullMethod string) (protoreflect.MethodDescriptor, error) {
	service, method := splitMethod(fullMethod)
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("interceptor: service of %s is not registered: %w", fullMethod, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("interceptor: %s is not a service", service)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("interceptor: service %s has no method %s", service, method)
	}
	return md, nil
}

// deliver copies the request read by the front door into the message the
// handler asked for.
func deliver(dst any, src proto.Message) error {
	d, ok := dst.(proto.Message)
	if !ok {
		return fmt.Errorf("interceptor: handler reads into %T, not a protobuf message", dst)
	}
	proto.Reset(d)
	if d.ProtoReflect().Descriptor() == src.ProtoReflect().Descriptor() {
		proto.Merge(d, src)
		return nil
	}
	// Same wire type, different Go types (a dynamic message): go through
	// the wire format.
	b, err := proto.Marshal(src)
	if err != nil {
		return err
	}
	return proto.Unmarshal(b, d)
}
