package interceptor

import (
	"encoding/json"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	_ "google.golang.org/protobuf/types/known/timestamppb" // Rich.when

	"github.com/tollgate-go/tollgate"
	testv1 "github.com/tollgate-go/tollgate/internal/testproto"
)

// richType is a proto3 message with a field of every kind, so that random
// wire bytes decode into every shape renderDirect handles or declines.
var richType = func() protoreflect.MessageType {
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, repeated bool, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), JsonName: proto.String(name + "Json")}
		if repeated {
			f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	T := descriptorpb.FieldDescriptorProto_Type_value
	ty := func(s string) descriptorpb.FieldDescriptorProto_Type {
		return descriptorpb.FieldDescriptorProto_Type(T[s])
	}
	fields := []*descriptorpb.FieldDescriptorProto{
		// Declared out of number order: protojson follows declaration.
		field("s", 20, ty("TYPE_STRING"), false, ""),
		field("b", 2, ty("TYPE_BOOL"), false, ""),
		field("i32", 3, ty("TYPE_INT32"), false, ""),
		field("si32", 4, ty("TYPE_SINT32"), false, ""),
		field("sf32", 5, ty("TYPE_SFIXED32"), false, ""),
		field("u32", 6, ty("TYPE_UINT32"), false, ""),
		field("f32", 7, ty("TYPE_FIXED32"), false, ""),
		field("i64", 8, ty("TYPE_INT64"), false, ""),
		field("si64", 9, ty("TYPE_SINT64"), false, ""),
		field("sf64", 10, ty("TYPE_SFIXED64"), false, ""),
		field("u64", 11, ty("TYPE_UINT64"), false, ""),
		field("f64", 12, ty("TYPE_FIXED64"), false, ""),
		field("raw", 13, ty("TYPE_BYTES"), false, ""),
		field("color", 14, ty("TYPE_ENUM"), false, ".rich.Color"),
		field("child", 15, ty("TYPE_MESSAGE"), false, ".rich.Rich"),
		field("names", 16, ty("TYPE_STRING"), true, ""),
		field("counts", 17, ty("TYPE_INT64"), true, ""),
		field("children", 18, ty("TYPE_MESSAGE"), true, ".rich.Rich"),
		field("colors", 19, ty("TYPE_ENUM"), true, ".rich.Color"),
		field("ratio", 1, ty("TYPE_DOUBLE"), false, ""),
		field("small", 21, ty("TYPE_FLOAT"), false, ""),
		field("when", 22, ty("TYPE_MESSAGE"), false, ".google.protobuf.Timestamp"),
		field("tags", 23, ty("TYPE_MESSAGE"), true, ".rich.Rich.TagsEntry"),
		field("pick_s", 24, ty("TYPE_STRING"), false, ""),
		field("pick_i", 25, ty("TYPE_INT32"), false, ""),
		field("maybe", 26, ty("TYPE_INT32"), false, ""),
	}
	// pick_s and pick_i are a oneof; maybe is a proto3 optional field.
	fields[23].OneofIndex, fields[24].OneofIndex = proto.Int32(0), proto.Int32(0)
	fields[25].OneofIndex, fields[25].Proto3Optional = proto.Int32(1), proto.Bool(true)
	fd := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("rich.proto"),
		Package:    proto.String("rich"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/timestamp.proto"},
		EnumType: []*descriptorpb.EnumDescriptorProto{{Name: proto.String("Color"), Value: []*descriptorpb.EnumValueDescriptorProto{
			{Name: proto.String("COLOR_UNSET"), Number: proto.Int32(0)},
			{Name: proto.String("RED"), Number: proto.Int32(1)},
		}}},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name:      proto.String("Rich"),
			Field:     fields,
			OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("pick")}, {Name: proto.String("_maybe")}},
			NestedType: []*descriptorpb.DescriptorProto{{
				Name:    proto.String("TagsEntry"),
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				Field: []*descriptorpb.FieldDescriptorProto{
					field("key", 1, ty("TYPE_STRING"), false, ""),
					field("value", 2, ty("TYPE_INT32"), false, ""),
				},
			}},
		}},
	}
	file, err := protodesc.NewFile(fd, protoregistry.GlobalFiles)
	if err != nil {
		panic(err)
	}
	return dynamicpb.NewMessageType(file.Messages().ByName("Rich"))
}()

// viaProtojson is the definition renderDirect must match.
func viaProtojson(m proto.Message) (tollgate.Params, error) {
	b, err := jsonOptions.Marshal(m)
	if err != nil {
		return nil, err
	}
	return tollgate.ParseParams(b)
}

func FuzzParamsMatchProtojson(f *testing.F) {
	seed := func(fields ...[]byte) []byte {
		var b []byte
		for _, x := range fields {
			b = append(b, x...)
		}
		return b
	}
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	}
	bytesField := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	f.Add([]byte{})
	f.Add(seed(bytesField(20, []byte("hello")), varint(2, 1), varint(3, 1<<63), varint(8, 1<<63), varint(14, 1)))
	f.Add(seed(varint(14, 7)))                              // an enum number without a name: protojson's
	f.Add(seed(varint(25, 3), varint(26, 0)))               // oneof member, optional zero
	f.Add(seed(bytesField(24, []byte("x")), varint(25, 0))) // the last oneof member wins
	f.Add(seed(bytesField(15, seed(bytesField(20, []byte("child")), varint(11, 42))), bytesField(16, []byte("a")), bytesField(16, []byte("b"))))
	f.Add(seed(bytesField(20, []byte{0xff}), varint(4, 3)))                     // invalid UTF-8: both refuse
	f.Add(seed(bytesField(23, seed(bytesField(1, []byte("k")), varint(2, 1))))) // a map: protojson's
	f.Add(seed(protowire.AppendFixed64(protowire.AppendTag(nil, 1, protowire.Fixed64Type), 0x7ff8000000000001)))
	f.Add(seed(bytesField(18, seed(varint(14, 1))), bytesField(18, nil), bytesField(13, []byte{0, 1, 2, 250})))
	f.Fuzz(func(t *testing.T, wire []byte) {
		m := richType.New().Interface()
		if proto.Unmarshal(wire, m) != nil {
			return
		}
		want, wantErr := viaProtojson(m)
		got, gotErr := params(m)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("errors differ: protojson %v, params %v", wantErr, gotErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("params differ:\nprotojson %#v\nparams    %#v", want, got)
		}
	})
}

func TestRenderDirect(t *testing.T) {
	got, ok := renderDirect((&testv1.UploadSummary{Chunks: 2, Bytes: 5}).ProtoReflect())
	want := tollgate.Params{{Key: "chunks", Value: json.Number("2")}, {Key: "bytes", Value: "5"}}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, ok, want)
	}
	if got, ok := renderDirect((&testv1.UploadSummary{}).ProtoReflect()); !ok || len(got) != 2 || got[0].Value != json.Number("0") || got[1].Value != "0" {
		t.Errorf("empty message: got %#v, %v; want its zero values", got, ok)
	}
	// Every kind renderDirect handles, nested and repeated, out of order.
	var wire []byte
	for _, kv := range [][2]uint64{{2, 1}, {3, 1<<64 - 5}, {4, 9}, {6, 7}, {8, 1 << 62}, {9, 3}, {11, 1<<64 - 1}, {14, 1}, {19, 0}, {19, 1}, {17, 1<<64 - 1}} {
		wire = protowire.AppendVarint(protowire.AppendTag(wire, protowire.Number(kv[0]), protowire.VarintType), kv[1])
	}
	wire = protowire.AppendFixed32(protowire.AppendTag(wire, 5, protowire.Fixed32Type), 1<<31)
	wire = protowire.AppendFixed32(protowire.AppendTag(wire, 7, protowire.Fixed32Type), 1<<31)
	wire = protowire.AppendFixed64(protowire.AppendTag(wire, 10, protowire.Fixed64Type), 1<<63)
	wire = protowire.AppendFixed64(protowire.AppendTag(wire, 12, protowire.Fixed64Type), 1<<63)
	wire = protowire.AppendBytes(protowire.AppendTag(wire, 13, protowire.BytesType), []byte{0, 255})
	wire = protowire.AppendBytes(protowire.AppendTag(wire, 16, protowire.BytesType), []byte("név"))
	child := protowire.AppendBytes(protowire.AppendTag(nil, 20, protowire.BytesType), []byte("inner"))
	wire = protowire.AppendBytes(protowire.AppendTag(wire, 18, protowire.BytesType), child)
	wire = protowire.AppendBytes(protowire.AppendTag(wire, 15, protowire.BytesType), child)
	wire = protowire.AppendBytes(protowire.AppendTag(wire, 20, protowire.BytesType), []byte("outer"))
	rich := richType.New().Interface()
	if err := proto.Unmarshal(wire, rich); err != nil {
		t.Fatal(err)
	}
	direct, ok := renderDirect(rich.ProtoReflect())
	viaJSON, err := viaProtojson(rich)
	if !ok || err != nil || !reflect.DeepEqual(direct, viaJSON) {
		t.Fatalf("direct %v (%v) != protojson %v (%v)", direct, ok, viaJSON, err)
	}
	// Every field but the four unset ones with presence: when, the oneof's
	// two members and the optional maybe.
	if len(direct) != 22 {
		t.Errorf("rendered %d fields, want 22: %v", len(direct), direct)
	}

	for name, m := range map[string]proto.Message{
		"proto2":         &descriptorpb.FileDescriptorProto{Name: proto.String("x.proto")},
		"a double":       msgWith(t, "ratio", protoreflect.ValueOfFloat64(0.5)),
		"a well-known":   msgWith(t, "when", protoreflect.ValueOfMessage(richType.New().Get(richField(t, "when")).Message().New())),
		"an enum number": msgWith(t, "color", protoreflect.ValueOfEnum(7)),
	} {
		if _, ok := renderDirect(m.ProtoReflect()); ok {
			t.Errorf("%s: rendered directly, want it left to protojson", name)
		}
	}
}

func richField(tb testing.TB, name string) protoreflect.FieldDescriptor {
	fd := richType.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		tb.Fatalf("no field %s", name)
	}
	return fd
}

func msgWith(tb testing.TB, name string, v protoreflect.Value) proto.Message {
	m := richType.New()
	m.Set(richField(tb, name), v)
	return m.Interface()
}
