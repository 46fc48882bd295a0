package cloudformation

import (
	"testing"

	"github.com/lambdawarden/lambdawarden/internal/iac/estate"
)

// FuzzRead: any YAML or JSON template reads to an estate (or a broken
// file) without panicking or hanging, and the estate builds.
func FuzzRead(f *testing.F) {
	f.Add([]byte("Resources:\n  P:\n    Type: AWS::Lambda::Permission\n    Properties:\n      FunctionName: !Ref F\n      Principal: '*'\n      Action: lambda:InvokeFunction\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      FunctionName: !Sub '${AWS::StackName}-${F}'\n"))
	f.Add([]byte("Conditions:\n  C: !Equals [!Ref X, !Condition C]\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: !If [C, a, !Join ['', [!Select [0, !Split [',', 'x,y']]]]]\n      AutoPublishAlias: live\n      FunctionUrlConfig: {AuthType: NONE}\n      Events: {E: {Type: SNS, Properties: {Topic: !GetAtt T.Arn}}}\n"))
	f.Add([]byte(`{"Resources":{"R":{"Type":"AWS::Lambda::ResourcePolicy","Properties":{"ResourceArn":{"Fn::GetAtt":["F","Arn"]},"PolicyDocument":{"Statement":[{"Effect":"Allow","Principal":"*"}]}}}}}`))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("Resources:\n  Fn::ForEach::A:\n    - X\n    - [a, b]\n    - Fn::ForEach::B:\n        - Y\n        - [c, d]\n        - P${X}${Y}:\n            Type: AWS::Lambda::Permission\n            Properties: {FunctionName: !Ref X, Principal: !Ref Y, Action: lambda:InvokeFunction}\n  Fn::Transform: {Name: AWS::Include}\n  S:\n    Type: AWS::CloudFormation::Stack\n    Properties: {TemplateURL: ./c.yaml}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := Read(data, "template.yaml", Options{})
		estate.Build(e, estate.Options{})
	})
}
