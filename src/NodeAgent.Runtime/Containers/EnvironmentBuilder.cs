using NodeAgent.Images;

namespace NodeAgent.Runtime.Containers;

/// <summary>The container environment: the image's, then the config's (later wins), PATH and HOSTNAME defaulted.</summary>
public static class EnvironmentBuilder
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static List<KeyValuePair<string, string>> Build(ImageConfig image, IReadOnlyList<KeyValuePair<string, string>> env, string hostname)
    {
        var result = new List<KeyValuePair<string, string>>();
        void Set(string key, string value)
        {
            var index = result.FindIndex(kv => kv.Key == key);
            if (index >= 0)
            {
                result[index] = new(key, value);
            }
            else
            {
                result.Add(new(key, value));
            }
        }

        foreach (var entry in image.Env)
        {
            var eq = entry.IndexOf('=');
            if (eq > 0)
            {
                Set(entry[..eq], entry[(eq + 1)..]);
            }
        }

        if (!result.Any(kv => kv.Key == "PATH"))
        {
            result.Insert(0, new("PATH", DefaultPath));
        }

        if (!result.Any(kv => kv.Key == "HOSTNAME"))
        {
            Set("HOSTNAME", hostname);
        }

        // The config's variables win over the image's, taken as given (the kubelet has expanded them).
        foreach (var (key, value) in env)
        {
            Set(key, value);
        }

        return result;
    }
}
